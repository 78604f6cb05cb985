"""What a website's files are waiting for: the numbers the platform team watches.

Shared by the `status` command and the Dagster layer (pending counts as metadata)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import GitFile, WebsiteState

MAX_LISTED = 20


@dataclass
class WebsiteStatus:
    website: str
    files: int = 0
    in_sync: int = 0
    desynchronized: int = 0  # generated and waiting for sync
    waiting_generation: int = 0  # identified, not rendered yet
    never_generated: int = 0
    failed: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)
    oldest_desync_at: datetime | None = None
    oldest_desync_age_seconds: float | None = None
    last_sync_at: datetime | None = None
    last_commit: str | None = None
    last_commit_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    last_rebuild_at: datetime | None = None
    orphans: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = value.isoformat()
        return data


def pending_query(website_id: str, since: datetime | None = None):
    """Generated, desynchronized files of a website; with `since`, only those desynchronized
    after it (files taken by a running sync are not counted twice)."""
    query = select(func.count(), func.min(GitFile.desynchronized_at)).where(
        GitFile.website_id == website_id,
        GitFile.generated_at.is_not(None),
        GitFile.desynchronized_at.is_not(None),
    )
    if since is not None:
        query = query.where(GitFile.desynchronized_at > since)
    return query


def pending_files(session: Session, website_id: str, since: datetime | None = None) -> tuple[int, datetime | None]:
    count, oldest = session.execute(pending_query(website_id, since)).one()
    return int(count), oldest


def website_status(session: Session, website_id: str, now: datetime) -> WebsiteStatus:
    status = WebsiteStatus(website_id)
    gf = GitFile
    status.files = session.scalar(select(func.count()).where(gf.website_id == website_id)) or 0
    status.never_generated = session.scalar(
        select(func.count()).where(gf.website_id == website_id, gf.generated_at.is_(None))) or 0
    status.waiting_generation = session.scalar(
        select(func.count()).where(gf.website_id == website_id, gf.identified_at.is_not(None))) or 0
    status.in_sync = session.scalar(select(func.count()).where(
        gf.website_id == website_id, gf.generated_at.is_not(None), gf.desynchronized_at.is_(None))) or 0
    status.desynchronized, oldest = pending_files(session, website_id)
    if oldest is not None:
        status.oldest_desync_at = oldest
        status.oldest_desync_age_seconds = round((now - oldest).total_seconds(), 1)
    failed = session.execute(select(gf.about_type, gf.about_id, gf.language, gf.error).where(
        gf.website_id == website_id, gf.error.is_not(None)).order_by(gf.id)).all()
    status.failed = len(failed)
    status.failures = [
        {"owner": f"{t}:{i}{f' ({lang})' if lang else ''}", "error": e} for t, i, lang, e in failed[:MAX_LISTED]
    ]
    state = session.get(WebsiteState, website_id)
    if state is not None:
        status.last_sync_at = state.last_sync_at
        status.last_commit = state.last_commit_sha
        status.last_commit_at = state.last_commit_at
        status.last_error = state.last_error
        status.last_error_at = state.last_error_at
        status.last_rebuild_at = state.last_rebuild_at
        status.orphans = list(state.orphans or [])
    return status


def pending_for_display(session: Session, website_id: str) -> tuple[int, datetime | None]:
    """Pending files as the manual sync button shows them: while a sync runs, the files it
    took (desynchronized before its start, `last_sync_at`) are not counted again."""
    from osuny_pipeline.cms.models import WebsiteLock, utcnow

    lock = session.get(WebsiteLock, website_id)
    state = session.get(WebsiteState, website_id)
    running = lock is not None and lock.expires_at > utcnow()
    since = state.last_sync_at if (running and state is not None) else None
    return pending_files(session, website_id, since)


def pending_by_website(session: Session) -> dict[str, tuple[int, datetime | None]]:
    """Every website's generated, desynchronized files in one grouped query (schedules)."""
    rows = session.execute(
        select(GitFile.website_id, func.count(), func.min(GitFile.desynchronized_at))
        .where(GitFile.generated_at.is_not(None), GitFile.desynchronized_at.is_not(None))
        .group_by(GitFile.website_id)
    )
    return {key: (int(count), oldest) for key, count, oldest in rows}

"""The nightly refresh: read the real remote tree once and bring git_files up to date.

Drift (a file we own edited or deleted directly on the remote) becomes a
desynchronization that the next sync repairs; orphans (files under content/ and data/
that no git_file owns) are listed in the website's state, never deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pygit2
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import GitFile, utcnow
from osuny_pipeline.config import SyncSettings
from osuny_pipeline.git.lock import WebsiteLease
from osuny_pipeline.git.mirror import iter_blobs, open_website_mirror
from osuny_pipeline.git.state import failures_recorded, website_state
from osuny_pipeline.websites import require_website

ORPHAN_FOLDERS = ("content/", "data/")


@dataclass
class RefreshResult:
    website_id: str
    head: str | None = None
    remote_files: int = 0
    checked: int = 0  # git_files with a known remote path
    drifted: list[str] = field(default_factory=list)  # owned files whose remote content differs
    missing: list[str] = field(default_factory=list)  # owned files gone from the remote
    desynchronized: int = 0  # rows this refresh queued for the next sync
    orphans: list[str] = field(default_factory=list)


def refresh_from_remote(session: Session, website_id: str, *, now: datetime,
                        cache_dir: Path | None = None) -> RefreshResult:
    """Fetch once, compare every git_file's previous_sha with the remote's blob, list orphans.
    Writes through `session`; the caller commits (and holds the website's lease)."""
    website = require_website(session, website_id)
    mirror = open_website_mirror(website, cache_dir)
    head = mirror.fetch()
    try:
        remote_files = dict(iter_blobs(mirror.repo, head.tree)) if head is not None else {}
    except (pygit2.GitError, KeyError):  # the cache is corrupt below its refs: rebuild it once
        mirror.rebuild()
        head = mirror.fetch()
        remote_files = dict(iter_blobs(mirror.repo, head.tree)) if head is not None else {}
    result = RefreshResult(website_id=website_id, head=str(head.id) if head else None,
                           remote_files=len(remote_files))

    owned: set[str] = set()
    for row in session.scalars(select(GitFile).where(GitFile.website_id == website_id).order_by(GitFile.id)):
        owned.update(p for p in (row.current_path, row.previous_path) if p)
        if row.previous_path is None:
            continue
        result.checked += 1
        remote_sha = remote_files.get(row.previous_path)
        if remote_sha == row.previous_sha:
            continue
        (result.drifted if remote_sha else result.missing).append(row.previous_path)
        row.previous_sha = remote_sha
        # Even when our latest render equals what we last pushed: the remote no longer has it.
        if row.generated_at is not None and row.current_path is not None:
            if row.desynchronized_at is None:
                row.desynchronized_at = now
                result.desynchronized += 1

    result.orphans = sorted(p for p in remote_files if p.startswith(ORPHAN_FOLDERS) and p not in owned)
    state = website_state(session, website_id)
    state.orphans = result.orphans
    state.last_rebuild_at = now
    session.flush()
    return result


def rebuild_website(engine: Engine, website_id: str, *, settings: SyncSettings | None = None,
                    now: Callable[[], datetime] = utcnow, owner: str | None = None,
                    identify: bool = True) -> tuple[RefreshResult, object | None]:
    """`osuny-pipeline rebuild`: refresh from the remote under the website's lease, then
    identify the whole website so every file that should exist gets generated. An error
    is recorded on the website and re-raised."""
    settings = settings or SyncSettings.from_env()
    when = now()
    identified = None
    with failures_recorded(engine, website_id, "rebuild", now):
        with WebsiteLease(engine, website_id, lease_seconds=settings.lock_seconds, now=now, owner=owner):
            with Session(engine, expire_on_commit=False) as session, session.begin():
                refreshed = refresh_from_remote(session, website_id, now=when)
        if identify:
            from osuny_pipeline.graph.identify import identify_website

            with Session(engine, expire_on_commit=False) as session, session.begin():
                identified = identify_website(session, website_id, now=when, full=True)
    return refreshed, identified

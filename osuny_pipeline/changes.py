"""Reading the change log for the change sensor: which websites have unidentified changes.

Dirtiness is measured against each website's own identification cursor
(`WebsiteState.identified_change_id`), not against the sensor's cursor: a website skipped
because a run is already queued stays dirty, and is asked for again once that run is
done. The sensor's cursor only bounds where the scan starts.

PostgreSQL sequence values can commit out of order (id 11 visible before id 10 commits),
so only rows older than a safety lag are consumed: the watermark is the highest id
below which every row was written more than `lag` ago. The nightly full rebuild catches
anything a transaction slower than the lag could still hide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import ChangeLog, Connection, GitFile, Website, WebsiteState

DEFAULT_LAG = timedelta(seconds=5)
MAX_SCAN = 200_000  # change rows one tick may look at: a few hundred ms on either backend


@dataclass(frozen=True)
class DirtyWebsites:
    watermark: int  # consume rows up to this id (inclusive)
    scanned_from: int
    dirty: dict[str, int]  # website -> highest relevant change id above its cursor


def safe_watermark(session: Session, now: datetime, lag: timedelta = DEFAULT_LAG, *, after: int = 0) -> int:
    """The highest change id every row up to which is older than `lag`."""
    young = session.scalar(select(func.min(ChangeLog.id)).where(
        ChangeLog.id > after, ChangeLog.changed_at > now - lag))
    if young is not None:
        return young - 1
    return session.scalar(select(func.max(ChangeLog.id))) or after


def identification_cursors(session: Session) -> dict[str, int]:
    cursors = {key: 0 for key in session.scalars(select(Website.id))}
    for key, cursor in session.execute(select(WebsiteState.website_id, WebsiteState.identified_change_id)):
        if key in cursors:
            cursors[key] = cursor
    return cursors


def dirty_websites(session: Session, now: datetime, *, lag: timedelta = DEFAULT_LAG,
                   start: int | None = None, max_scan: int = MAX_SCAN) -> DirtyWebsites:
    """Websites with change rows above their identification cursor, up to the watermark.

    Three grouped queries whatever the number of rows: one for rows that name their website,
    others for indirect objects (people, media...) through the websites that show them."""
    cursors = identification_cursors(session)
    if not cursors:
        return DirtyWebsites(0, 0, {})
    low = min(cursors.values()) if start is None else start
    watermark = min(safe_watermark(session, now, lag, after=low), low + max_scan)
    window = and_(ChangeLog.id > low, ChangeLog.id <= watermark)
    highest: dict[str, int] = {}
    for website_id, top in session.execute(
        select(ChangeLog.website_id, func.max(ChangeLog.id))
        .where(window, ChangeLog.website_id.is_not(None)).group_by(ChangeLog.website_id)
    ):
        highest[website_id] = max(top, highest.get(website_id, 0))
    indirect = (
        select(ChangeLog.about_type, ChangeLog.about_id, func.max(ChangeLog.id).label("top"))
        .where(window, ChangeLog.website_id.is_(None)).group_by(ChangeLog.about_type, ChangeLog.about_id)
        .subquery()
    )
    # Websites that show the object (connections), or still carry a file of it (a
    # connection just removed: its file waits for deletion): identification looks at both.
    for shown_by in (
        select(Connection.website_id.label("website_id"), func.max(indirect.c.top))
        .join(indirect, and_(Connection.indirect_type == indirect.c.about_type,
                             Connection.indirect_id == indirect.c.about_id))
        .group_by(Connection.website_id),
        select(GitFile.website_id.label("website_id"), func.max(indirect.c.top))
        .join(indirect, and_(GitFile.about_type == indirect.c.about_type,
                             GitFile.about_id == indirect.c.about_id))
        .group_by(GitFile.website_id),
    ):
        for website_id, top in session.execute(shown_by):
            highest[website_id] = max(top, highest.get(website_id, 0))
    dirty = {key: top for key, top in highest.items() if key in cursors and top > cursors[key]}
    return DirtyWebsites(watermark, low, dict(sorted(dirty.items())))

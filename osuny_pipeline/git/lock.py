"""One writer per website: a lease in `website_locks` that a live worker renews.

Acquiring is one atomic upsert on both backends: insert the row, or take it over when
the current lease has expired (or is already ours). A crashed worker stops renewing,
its lease expires, and the next worker takes the site over (Osuny's lock had none).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, or_, select, update
from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import WebsiteLock
from osuny_pipeline.git.errors import LeaseLost, WebsiteBusy
from osuny_pipeline.store import dialect_insert

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def new_owner() -> str:
    """Unique per acquisition, readable in the table: host, process, random suffix."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def try_acquire(session: Session, website_id: str, owner: str, *, now: datetime, lease_seconds: float) -> bool:
    """Take the lease if free, expired or ours. The caller commits."""
    expires = now + timedelta(seconds=lease_seconds)
    insert = dialect_insert(session)
    stmt = insert(WebsiteLock).values(website_id=website_id, owner=owner, acquired_at=now, expires_at=expires)
    stmt = stmt.on_conflict_do_update(
        index_elements=["website_id"],
        set_={"owner": owner, "acquired_at": now, "expires_at": expires},
        where=or_(WebsiteLock.expires_at < now, WebsiteLock.owner == owner),
    )
    session.execute(stmt)
    holder = session.scalar(select(WebsiteLock.owner).where(WebsiteLock.website_id == website_id))
    return holder == owner


def renew(session: Session, website_id: str, owner: str, *, now: datetime, lease_seconds: float) -> bool:
    """Extend our lease; False when it is no longer ours (it expired and was taken)."""
    result = session.execute(
        update(WebsiteLock)
        .where(WebsiteLock.website_id == website_id, WebsiteLock.owner == owner)
        .values(expires_at=now + timedelta(seconds=lease_seconds))
    )
    return result.rowcount == 1


def release(session: Session, website_id: str, owner: str) -> None:
    """Delete the lease only if it is still ours."""
    session.execute(delete(WebsiteLock).where(WebsiteLock.website_id == website_id, WebsiteLock.owner == owner))


def describe_holder(session: Session, website_id: str) -> str:
    row = session.get(WebsiteLock, website_id)
    if row is None:
        return "another worker"
    return f"{row.owner} until {row.expires_at.isoformat(timespec='seconds')}"


class WebsiteLease:
    """`with WebsiteLease(engine, website_id, ...)`: hold the website's lease for the block,
    renewed by a background thread every lease/3 seconds. Each lock statement runs in its
    own short transaction, never inside the caller's."""

    def __init__(self, engine: Engine, website_id: str, *, lease_seconds: float, now: Clock,
                 owner: str | None = None, renew_every: float | None = None):
        self.engine = engine
        self.website_id = website_id
        self.lease_seconds = lease_seconds
        self.now = now
        self.owner = owner or new_owner()
        self.renew_every = renew_every if renew_every is not None else max(lease_seconds / 3, 0.05)
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> WebsiteLease:
        with Session(self.engine) as session, session.begin():
            acquired = try_acquire(session, self.website_id, self.owner, now=self.now(),
                                   lease_seconds=self.lease_seconds)
            holder = None if acquired else describe_holder(session, self.website_id)
        if not acquired:
            raise WebsiteBusy(f"website {self.website_id} is being synchronized by {holder}; try again later")
        self._thread = threading.Thread(target=self._keep_renewing, name=f"lease-{self.website_id}", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with Session(self.engine) as session, session.begin():
            release(session, self.website_id, self.owner)

    def renew_now(self) -> None:
        with Session(self.engine) as session, session.begin():
            if not renew(session, self.website_id, self.owner, now=self.now(), lease_seconds=self.lease_seconds):
                self.lost = True

    def check(self) -> None:
        """Raise before an irreversible step (a push) if the lease was taken over."""
        if not self.lost:
            self.renew_now()
        if self.lost:
            raise LeaseLost(f"website {self.website_id}: the sync lease expired and was taken over; "
                            "stopping before pushing")

    def _keep_renewing(self) -> None:
        while not self._stop.wait(self.renew_every):
            try:
                self.renew_now()
            except Exception as exc:  # a DB hiccup must not kill the sync; the next renewal may work
                log.warning("website %s: lease renewal failed: %s", self.website_id, exc)
            if self.lost:
                return

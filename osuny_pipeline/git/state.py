"""The sync's bookkeeping in `website_states`: last sync, last commit, last error, orphans."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import Website, WebsiteState
from osuny_pipeline.errors import redact
from osuny_pipeline.store import dialect_insert

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 2000


def website_state(session: Session, website_id: str) -> WebsiteState:
    """The website's state row, created if missing (safe against a racing creator)."""
    insert = dialect_insert(session)
    session.execute(insert(WebsiteState).values(website_id=website_id, identified_change_id=0, orphans=[])
                    .on_conflict_do_nothing(index_elements=["website_id"]))
    state = session.get(WebsiteState, website_id, populate_existing=True)
    assert state is not None
    return state


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return redact(text)[:MAX_ERROR_CHARS]


def record_failure(engine: Engine, website_id: str, exc: BaseException, now: datetime, *,
                   keep_existing: bool = False) -> None:
    """Store the error on the website in its own committed transaction (the sync's own
    work was rolled back or never written). Never raises: the original error matters more.
    With keep_existing, an error already recorded stays (it says more than a run failure)."""
    try:
        with Session(engine) as session, session.begin():
            if session.get(Website, website_id) is None:
                return
            state = website_state(session, website_id)
            if keep_existing and state.last_error:
                return
            state.last_error = one_line(exc)
            state.last_error_at = now
    except Exception as db_exc:  # the database itself may be what failed
        log.error("website %s: could not record the error %r: %s", website_id, one_line(exc), db_exc)


@contextmanager
def failures_recorded(engine: Engine, website_id: str, action: str, now: Callable[[], datetime]) -> Iterator[None]:
    """Run a website's git work: any failure is recorded on the website (one redacted
    line, `status` shows it) and re-raised as an OsunyError. A busy website is not a
    failure of that website: another worker holds it."""
    from osuny_pipeline.errors import OsunyError
    from osuny_pipeline.git.errors import SyncError, WebsiteBusy

    try:
        yield
    except WebsiteBusy:
        raise
    except OsunyError as exc:
        record_failure(engine, website_id, exc, now())
        raise
    except Exception as exc:
        wrapped = SyncError(f"website {website_id}: {action} failed: {one_line(exc)}")
        record_failure(engine, website_id, wrapped, now())
        raise wrapped from exc

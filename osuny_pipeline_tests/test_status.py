"""Pending counts as the platform team sees them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import GitFile, Website, WebsiteLock, WebsiteState, utcnow
from osuny_pipeline.status import pending_by_website, pending_files, pending_for_display, website_status

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def add_files(session: Session) -> None:
    session.add(Website(id="demo", name="Demo", repository="/r", languages=["fr"]))
    session.flush()
    for i, minutes in enumerate((0, 5, 10)):
        session.add(GitFile(website_id="demo", about_type="post", about_id=f"p{i}", language="fr",
                            current_path=f"content/fr/p{i}.html", current_sha="0" * 40, generated_at=T0,
                            desynchronized_at=T0 + timedelta(minutes=minutes)))
    session.add(GitFile(website_id="demo", about_type="post", about_id="never", language="fr",
                        desynchronized_at=T0))  # never generated: not pending for sync
    session.add(GitFile(website_id="demo", about_type="post", about_id="failed", language="fr",
                        error="post failed: slug is empty"))
    session.flush()


def test_pending_files_are_generated_and_desynchronized(session):
    add_files(session)
    assert pending_files(session, "demo") == (3, T0)
    assert pending_by_website(session) == {"demo": (3, T0)}
    status = website_status(session, "demo", T0 + timedelta(hours=1))
    assert (status.files, status.desynchronized, status.never_generated, status.failed) == (5, 3, 2, 1)
    assert status.oldest_desync_age_seconds == 3600.0
    assert status.failures == [{"owner": "post:failed (fr)", "error": "post failed: slug is empty"}]


def test_files_a_running_sync_took_are_not_counted_again(session):
    add_files(session)
    session.add(WebsiteState(website_id="demo", last_sync_at=T0 + timedelta(minutes=5)))
    assert pending_for_display(session, "demo") == (3, T0)  # no sync running: all of them
    now = utcnow()
    session.add(WebsiteLock(website_id="demo", owner="w1", acquired_at=now, expires_at=now + timedelta(minutes=5)))
    session.flush()
    assert pending_for_display(session, "demo") == (1, T0 + timedelta(minutes=10))

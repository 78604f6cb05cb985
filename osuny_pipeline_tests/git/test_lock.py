"""The website lease: acquire, busy, expiry, renewal, release, and the race on PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import WebsiteLock, utcnow
from osuny_pipeline.git.errors import LeaseLost, WebsiteBusy
from osuny_pipeline.git.lock import WebsiteLease, release, renew, try_acquire
from osuny_pipeline.git.sync import sync_website
from osuny_pipeline_tests.git.conftest import T0, Clock, head, render


def acquire(engine: Engine, owner: str, now, lease: float = 60) -> bool:
    with Session(engine) as session, session.begin():
        return try_acquire(session, "demo", owner, now=now, lease_seconds=lease)


def holder(engine: Engine) -> WebsiteLock | None:
    with Session(engine) as session:
        return session.get(WebsiteLock, "demo")


def test_a_live_lease_is_exclusive_and_an_expired_one_is_taken_over(engine, site):
    assert acquire(engine, "worker-a", T0)
    assert not acquire(engine, "worker-b", T0 + timedelta(seconds=59))
    assert acquire(engine, "worker-a", T0 + timedelta(seconds=10))  # re-entrant for its owner
    assert acquire(engine, "worker-b", T0 + timedelta(seconds=71))  # a crashed worker frees the site
    assert holder(engine).owner == "worker-b"
    with Session(engine) as session, session.begin():
        # the old owner can neither renew nor release someone else's lease
        assert not renew(session, "demo", "worker-a", now=T0 + timedelta(seconds=72), lease_seconds=60)
        release(session, "demo", "worker-a")
    assert holder(engine).owner == "worker-b"


def test_renewal_keeps_the_lease_alive(engine, site):
    assert acquire(engine, "worker-a", T0)
    with Session(engine) as session, session.begin():
        assert renew(session, "demo", "worker-a", now=T0 + timedelta(seconds=50), lease_seconds=60)
    assert not acquire(engine, "worker-b", T0 + timedelta(seconds=100))  # would have expired at T0+60
    assert holder(engine).expires_at == T0 + timedelta(seconds=110)


def test_the_background_thread_renews_during_a_long_step(engine, site):
    with WebsiteLease(engine, "demo", lease_seconds=0.4, now=utcnow, renew_every=0.05) as lease:
        first = holder(engine).expires_at
        time.sleep(0.6)  # longer than the lease: only renewal keeps it ours
        assert holder(engine).expires_at > first
        assert holder(engine).owner == lease.owner
        with pytest.raises(WebsiteBusy):
            with WebsiteLease(engine, "demo", lease_seconds=0.4, now=utcnow):
                pass
        lease.check()
    assert holder(engine) is None  # released


def test_a_lease_taken_over_stops_the_sync_before_pushing(engine, site):
    clock = Clock()
    with WebsiteLease(engine, "demo", lease_seconds=10, now=clock, renew_every=60) as lease:
        clock.advance(11)
        assert acquire(engine, "intruder", clock())
        with pytest.raises(LeaseLost):
            lease.check()
    assert holder(engine).owner == "intruder"  # our exit did not release their lease


def test_sync_of_a_busy_website_is_a_clear_error(engine, site, remote, settings):
    render(engine, site, ("post", "p1", "fr"), "content/fr/p1.html", "x\n", at=T0)
    clock = Clock(T0 + timedelta(seconds=1))
    assert acquire(engine, "other-worker", clock(), lease=300)
    with pytest.raises(WebsiteBusy, match="demo is being synchronized by other-worker"):
        sync_website(engine, site, settings=settings, now=clock)
    assert head(remote) is None
    clock.advance(301)  # the other worker crashed: its lease expires
    assert sync_website(engine, site, settings=settings, now=clock).pushed


@pytest.mark.postgres
@pytest.mark.parametrize("expired", [False, True])
def test_only_one_of_two_racing_workers_gets_the_lease(pg_engine, remote, cache_dir, expired):
    from osuny_pipeline_tests.git.conftest import add_website

    add_website(pg_engine, "demo", str(remote))
    if expired:
        assert acquire(pg_engine, "crashed", T0 - timedelta(hours=1))
    barrier = threading.Barrier(2)
    results: dict[str, bool] = {}

    def worker(name: str) -> None:
        with Session(pg_engine) as session, session.begin():
            barrier.wait()
            results[name] = try_acquire(session, "demo", name, now=T0, lease_seconds=60)
            time.sleep(0.2)  # hold the transaction open so the other truly overlaps

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [False, True]
    winner = next(n for n, ok in results.items() if ok)
    assert holder(pg_engine).owner == winner

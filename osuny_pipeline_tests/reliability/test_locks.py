"""Locks end to end (issue 7.6): a live worker keeps its website through a sync longer
than its lease (the background renewal), while a second worker is refused all along.
A worker killed while holding the lease is test_crash.py's SIGKILL tests (busy, then
free once the lease expires); the lease primitives are osuny_pipeline_tests/git/test_lock.py."""

from __future__ import annotations

import threading
import time

from osuny_pipeline.cms.models import utcnow
from osuny_pipeline.config import SyncSettings
from osuny_pipeline.git.errors import WebsiteBusy
from osuny_pipeline.git.mirror import Mirror
from osuny_pipeline.git.sync import sync_website
from osuny_pipeline_tests.reliability.conftest import Site, commit_count

LEASE = 0.6  # seconds; renewed every LEASE / 3
SLOW = 3 * LEASE  # the fetch alone lasts three leases


def test_a_live_worker_keeps_its_lease_through_a_long_sync(published: Site, monkeypatch):
    site = published
    site.content["posts"][0]["localizations"]["fr"]["title"] = "Long sync"
    site.load()
    site.identify()
    site.generate()
    before = commit_count(site.remote)
    original, inside = Mirror.fetch, threading.Event()

    def slow_fetch(self):
        inside.set()
        time.sleep(SLOW)  # a slow network: the lease must be renewed meanwhile
        return original(self)

    monkeypatch.setattr(Mirror, "fetch", slow_fetch)
    settings = SyncSettings(lock_seconds=LEASE, push_retries=1)
    outcome: dict[str, object] = {}

    def long_sync() -> None:
        try:
            outcome["result"] = sync_website(site.engine, site.website_id, settings=settings, now=utcnow,
                                             owner="long-worker")
        except Exception as exc:  # reported by the assertion below
            outcome["result"] = exc

    worker = threading.Thread(target=long_sync)
    worker.start()
    assert inside.wait(30)
    refused = 0
    while worker.is_alive():  # another worker keeps trying, well past the first lease's expiry
        try:
            sync_website(site.engine, site.website_id, settings=settings, now=utcnow, owner="intruder")
        except WebsiteBusy:
            refused += 1
        else:
            raise AssertionError("a second worker got the website while the first was alive")
        time.sleep(LEASE / 4)
    worker.join()
    result = outcome["result"]
    assert not isinstance(result, Exception), result
    assert result.pushed and commit_count(site.remote) == before + 1
    assert refused >= 4  # tried over ~3 leases, refused every time

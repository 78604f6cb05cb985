"""Nightly refresh: drift becomes desynchronization that the next sync repairs; orphans
are listed, never deleted."""

from __future__ import annotations

from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import WebsiteState
from osuny_pipeline.git.refresh import rebuild_website, refresh_from_remote
from osuny_pipeline.git.sync import sync_website
from osuny_pipeline.store import blob_sha
from osuny_pipeline_tests.git.conftest import changed, fsck, head, ls_tree, push_foreign, row, show
from osuny_pipeline_tests.git.test_sync import MENU, PAGE, PAGE_PATH, POST, POST_PATH, publish_three


def test_drift_is_detected_and_repaired_and_orphans_are_left_alone(engine, site, remote, settings, clock):
    publish_three(engine, site, settings, clock)
    good_post = show(remote, POST_PATH)
    push_foreign(remote, {POST_PATH: "edited by hand\n", "content/fr/handmade.html": "mine\n",
                          "data/extra.yml": "x: 1\n", "layouts/custom.html": "<i/>\n"},
                 delete=(PAGE_PATH,))

    clock.advance(3600)
    with Session(engine) as session, session.begin():
        result = refresh_from_remote(session, site, now=clock())
    assert result.drifted == [POST_PATH] and result.missing == [PAGE_PATH]
    assert result.orphans == ["content/fr/handmade.html", "data/extra.yml"]  # layouts/ is not ours to judge
    assert result.desynchronized == 2 and result.head == head(remote)
    drifted = row(engine, site, POST)
    assert drifted.previous_sha == blob_sha(b"edited by hand\n") and drifted.desynchronized_at == clock()
    assert row(engine, site, PAGE).previous_sha is None
    assert row(engine, site, MENU).desynchronized_at is None  # untouched on the remote
    with Session(engine) as session:
        state = session.get(WebsiteState, site)
        assert state.orphans == result.orphans and state.last_rebuild_at == clock()

    before = head(remote)
    repaired = sync_website(engine, site, settings=settings, now=clock)
    assert show(remote, POST_PATH) == good_post and PAGE_PATH in ls_tree(remote)
    assert changed(remote, before) == {POST_PATH: "M", PAGE_PATH: "A"}
    assert repaired.counts["updated"] == 1 and repaired.counts["added"] == 1
    for orphan in ("content/fr/handmade.html", "data/extra.yml", "layouts/custom.html"):
        assert orphan in ls_tree(remote)
    fsck(remote)


def test_a_refresh_without_drift_changes_nothing(engine, site, remote, settings, clock):
    publish_three(engine, site, settings, clock)
    with Session(engine) as session, session.begin():
        result = refresh_from_remote(session, site, now=clock.advance(60))
    assert result.checked == 3 and not result.drifted and not result.missing and not result.orphans
    assert result.desynchronized == 0
    assert row(engine, site, POST).desynchronized_at is None


def test_rebuild_website_refreshes_under_the_lease(engine, site, remote, settings, clock):
    publish_three(engine, site, settings, clock)
    push_foreign(remote, {POST_PATH: "drift\n"})
    refreshed, identified = rebuild_website(engine, site, settings=settings, now=clock, identify=False)
    assert refreshed.drifted == [POST_PATH] and identified is None
    assert row(engine, site, POST).desynchronized_at is not None

"""sync_website against real bare repositories, checked through the `git` command."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import GitFile, WebsiteState
from osuny_pipeline.config import SyncSettings
from osuny_pipeline.git import sync as sync_module
from osuny_pipeline.git.errors import SyncError
from osuny_pipeline.git.mirror import Mirror
from osuny_pipeline.git.sync import sync_website
from osuny_pipeline.store import blob_sha
from osuny_pipeline_tests.git.conftest import (
    T0,
    Clock,
    changed,
    commit_count,
    fsck,
    git,
    head,
    ls_tree,
    push_foreign,
    render,
    row,
    show,
)

POST = ("post", "p1", "fr")
PAGE = ("page", "home", "fr")
MENU = ("menu", "primary-fr", "")
POST_PATH = "content/fr/posts/2025/2025-01-07-colloque.html"
PAGE_PATH = "content/fr/_index.html"
MENU_PATH = "data/menus/fr/primary.yml"


def publish_three(engine: Engine, site: str, settings: SyncSettings, clock: Clock):
    render(engine, site, POST, POST_PATH, "---\ntitle: Colloque\n---\n", at=T0)
    render(engine, site, PAGE, PAGE_PATH, "---\ntitle: Accueil\n---\n", at=T0)
    render(engine, site, MENU, MENU_PATH, "items: []\n", at=T0)
    clock.advance(60)
    return sync_website(engine, site, settings=settings, now=clock)


def test_first_publication_into_an_empty_repository(engine, site, remote, settings, clock):
    assert head(remote) is None
    result = publish_three(engine, site, settings, clock)

    assert result.pushed and result.commit == head(remote)
    assert commit_count(remote) == 1
    assert set(ls_tree(remote)) == {POST_PATH, PAGE_PATH, MENU_PATH}
    assert show(remote, POST_PATH) == "---\ntitle: Colloque\n---\n"
    assert result.counts == {"added": 3, "updated": 0, "moved": 0, "deleted": 0}
    assert sorted(f.path for f in result.files) == sorted([POST_PATH, PAGE_PATH, MENU_PATH])
    log = git(remote, "log", "-1", "--format=%an <%ae>%n%B", "main")
    assert log.startswith("Osuny Bot <bot@osuny.test>\nOsuny sync: 3 added, 0 updated, 0 moved, 0 deleted\n")
    assert "Osuny-Object: post:p1 (fr)" in log and "Osuny-Object: menu:primary-fr" in log
    trailers = git(remote, "log", "-1", "--format=%(trailers:key=Osuny-Object,valueonly)", "main").split()
    assert "post:p1" in trailers
    fsck(remote)

    synced = row(engine, site, POST)
    assert synced.desynchronized_at is None
    assert (synced.previous_path, synced.previous_sha) == (POST_PATH, blob_sha(b"---\ntitle: Colloque\n---\n"))
    assert synced.synced_commit == result.commit and synced.synced_at == clock()
    with Session(engine) as session:
        state = session.get(WebsiteState, site)
        assert state.last_commit_sha == result.commit and state.last_error is None
        assert state.last_sync_at == clock()


def test_update_touches_only_the_changed_file(engine, site, remote, settings, clock):
    publish_three(engine, site, settings, clock)
    before = head(remote)
    render(engine, site, POST, POST_PATH, "---\ntitle: Colloque modifié\n---\n", at=clock.advance(60))
    result = sync_website(engine, site, settings=settings, now=clock)
    assert changed(remote, before) == {POST_PATH: "M"}
    assert git(remote, "rev-parse", "main^").strip() == before
    assert result.counts["updated"] == 1 and result.batches == 1
    assert "Colloque modifié" in show(remote, POST_PATH)
    fsck(remote)


def test_delete_removes_the_file_its_empty_folders_and_the_row(engine, site, remote, settings, clock):
    publish_three(engine, site, settings, clock)
    before = head(remote)
    render(engine, site, POST, None, None, at=clock.advance(60))
    result = sync_website(engine, site, settings=settings, now=clock)
    assert changed(remote, before) == {POST_PATH: "D"}
    assert not any(p.startswith("content/fr/posts") for p in git(remote, "ls-tree", "-r", "-t", "--name-only",
                                                                 "main").split())
    assert result.counts["deleted"] == 1 and result.removed == 1
    assert row(engine, site, POST) is None
    fsck(remote)


def test_rename_deletes_and_writes_in_one_commit(engine, site, remote, settings, clock):
    publish_three(engine, site, settings, clock)
    before = head(remote)
    new_path = "content/fr/posts/2025/2025-01-07-colloque-2025.html"
    render(engine, site, POST, new_path, "---\ntitle: Colloque\naliases: [/old/]\n---\n", at=clock.advance(60))
    result = sync_website(engine, site, settings=settings, now=clock)
    assert changed(remote, before) == {POST_PATH: "D", new_path: "A"}
    assert commit_count(remote) == 2
    assert result.counts["moved"] == 1
    moved = row(engine, site, POST)
    assert moved.previous_path == new_path and moved.desynchronized_at is None


def test_a_freed_path_can_be_taken_in_the_same_batch(engine, site, remote, settings, clock):
    """Two pages swap paths: deletes are applied before writes."""
    publish_three(engine, site, settings, clock)
    render(engine, site, PAGE, POST_PATH, "page now here\n", at=clock.advance(60))
    render(engine, site, POST, "content/fr/posts/elsewhere.html", "post moved\n", at=clock())
    sync_website(engine, site, settings=settings, now=clock)
    assert show(remote, POST_PATH) == "page now here\n"
    assert show(remote, "content/fr/posts/elsewhere.html") == "post moved\n"
    assert PAGE_PATH not in ls_tree(remote)


def test_same_content_makes_no_commit_and_marks_rows_synced(engine, site, remote, settings, clock):
    publish_three(engine, site, settings, clock)
    before = head(remote)
    with Session(engine) as session, session.begin():  # re-rendered to identical content
        session.execute(update(GitFile).values(desynchronized_at=clock.advance(60)))
    result = sync_website(engine, site, settings=settings, now=clock)
    assert head(remote) == before and not result.pushed and result.batches == 0
    assert result.marked_synced == 3
    assert row(engine, site, POST).desynchronized_at is None
    assert row(engine, site, POST).synced_commit == before


def test_batches_are_chained_and_pushed_once(engine, site, remote, clock, monkeypatch):
    pushes: list[str] = []
    original = Mirror.push

    def spy(self, commit):
        pushes.append(str(commit))
        return original(self, commit)

    render(engine, site, PAGE, "content/fr/_index.html", "home\n", at=T0)
    sync_website(engine, site, settings=SyncSettings(batch_size=2, push_retries=1), now=clock)
    initial = head(remote)
    monkeypatch.setattr(Mirror, "push", spy)
    for i in range(5):
        render(engine, site, ("post", f"p{i}", "fr"), f"content/fr/posts/p{i}.html", f"post {i}\n",
               at=T0.replace(minute=i + 1))
    clock.advance(600)
    result = sync_website(engine, site, settings=SyncSettings(batch_size=2, push_retries=1), now=clock)
    assert result.batches == 3 and commit_count(remote) == 1 + 3
    assert pushes == [head(remote)]
    # oldest desync first: p0 and p1 went out in the first commit
    first = git(remote, "rev-list", "--reverse", "main").split()[1]
    assert set(ls_tree(remote, first)) - set(ls_tree(remote, initial)) == {
        "content/fr/posts/p0.html", "content/fr/posts/p1.html"}
    commits = {row(engine, site, ("post", f"p{i}", "fr")).synced_commit for i in range(5)}
    assert commits == set(git(remote, "rev-list", "main").split()) - {initial}
    fsck(remote)


def test_the_first_publication_is_one_commit_whatever_the_batch_size(engine, site, remote, clock):
    for i in range(5):
        render(engine, site, ("post", f"p{i}", "fr"), f"content/fr/posts/p{i}.html", f"post {i}\n",
               at=T0.replace(minute=i))
    clock.advance(600)
    result = sync_website(engine, site, settings=SyncSettings(batch_size=2, push_retries=1), now=clock)
    assert result.batches == 1 and commit_count(remote) == 1
    assert len(ls_tree(remote, "main")) == 5
    fsck(remote)


def test_cutoff_leaves_later_desynchronizations_for_the_next_run(engine, site, remote, settings, clock):
    render(engine, site, POST, POST_PATH, "now\n", at=T0)
    render(engine, site, PAGE, PAGE_PATH, "later\n", at=T0.replace(hour=13))
    result = sync_website(engine, site, settings=settings, now=clock)  # clock at T0
    assert set(ls_tree(remote)) == {POST_PATH} and result.selected == 1
    assert row(engine, site, PAGE).desynchronized_at is not None


def test_never_generated_rows_are_never_touched(engine, site, remote, settings, clock):
    push_foreign(remote, {PAGE_PATH: "hand-written home\n"})
    with Session(engine) as session, session.begin():
        session.add(GitFile(website_id=site, about_type="page", about_id="home", language="fr",
                            previous_path=PAGE_PATH, previous_sha="0" * 40, current_path=None,
                            desynchronized_at=T0, identified_at=T0))
    render(engine, site, POST, POST_PATH, "post\n", at=T0)
    clock.advance(1)
    sync_website(engine, site, settings=settings, now=clock)
    assert show(remote, PAGE_PATH) == "hand-written home\n"
    untouched = row(engine, site, PAGE)
    assert untouched.desynchronized_at == T0 and untouched.previous_sha == "0" * 40


def test_non_fast_forward_rebuilds_on_the_foreign_commit(engine, site, remote, settings, clock, monkeypatch):
    publish_three(engine, site, settings, clock)
    original = Mirror.push
    foreign: list[str] = []

    def push_after_someone_else(self, commit):
        if not foreign:  # someone pushes between our fetch and our push
            foreign.append(push_foreign(remote, {"layouts/partials/custom.html": "<div/>\n"}))
        return original(self, commit)

    monkeypatch.setattr(Mirror, "push", push_after_someone_else)
    render(engine, site, POST, POST_PATH, "updated\n", at=clock.advance(60))
    result = sync_website(engine, site, settings=settings, now=clock)
    assert result.attempts == 2 and result.pushed
    git(remote, "merge-base", "--is-ancestor", foreign[0], "main")
    assert git(remote, "rev-parse", "main^").strip() == foreign[0]
    assert show(remote, "layouts/partials/custom.html") == "<div/>\n"
    assert show(remote, POST_PATH) == "updated\n"
    fsck(remote)


def test_remote_that_keeps_moving_gives_up_without_losing_anything(engine, site, remote, clock, monkeypatch):
    render(engine, site, POST, POST_PATH, "post\n", at=T0)
    original = Mirror.push

    def always_beaten(self, commit):
        push_foreign(remote, {f"static/{commit}.txt": "x\n"})
        return original(self, commit)

    monkeypatch.setattr(Mirror, "push", always_beaten)
    with pytest.raises(SyncError, match="kept moving"):
        clock.advance(1)
        sync_website(engine, site, settings=SyncSettings(push_retries=2), now=clock)
    assert commit_count(remote) == 3 and POST_PATH not in ls_tree(remote)
    assert row(engine, site, POST).desynchronized_at is not None
    with Session(engine) as session:
        assert "kept moving" in session.get(WebsiteState, site).last_error


def test_compare_and_clear_keeps_a_render_that_lands_during_the_push(engine, site, remote, settings, clock,
                                                                     monkeypatch):
    publish_three(engine, site, settings, clock)
    render(engine, site, POST, POST_PATH, "version A\n", at=clock.advance(60))
    render(engine, site, PAGE, PAGE_PATH, "home A\n", at=clock())
    original = Mirror.push

    def push_then_render(self, commit):
        original(self, commit)
        render(engine, site, POST, POST_PATH, "version B\n", at=clock())  # generation, concurrently

    monkeypatch.setattr(Mirror, "push", push_then_render)
    result = sync_website(engine, site, settings=settings, now=clock)
    assert show(remote, POST_PATH) == "version A\n"
    assert result.stale == 1 and result.marked_synced == 1
    pending = row(engine, site, POST)
    assert pending.desynchronized_at is not None and pending.current_sha == blob_sha(b"version B\n")
    assert pending.previous_sha == blob_sha(b"version A\n")  # what the remote has now
    assert row(engine, site, PAGE).desynchronized_at is None

    monkeypatch.setattr(Mirror, "push", original)
    sync_website(engine, site, settings=settings, now=clock)
    assert show(remote, POST_PATH) == "version B\n"
    assert row(engine, site, POST).desynchronized_at is None


def test_a_push_whose_db_update_was_lost_is_not_pushed_twice(engine, site, remote, settings, clock, monkeypatch):
    """The process died between the push and the DB update: the next run finds the
    remote tree already equal to what it would build, and only marks the rows."""
    render(engine, site, POST, POST_PATH, "post\n", at=T0)
    render(engine, site, PAGE, PAGE_PATH, "home\n", at=T0)

    def die(*args, **kwargs):
        raise RuntimeError("worker killed after the push")

    monkeypatch.setattr(sync_module, "mark_pushed", die)
    with pytest.raises(SyncError, match="worker killed"):
        clock.advance(1)
        sync_website(engine, site, settings=settings, now=clock)
    pushed = head(remote)
    assert pushed and row(engine, site, POST).desynchronized_at is not None
    monkeypatch.undo()
    monkeypatch.setenv("OSUNY_GIT_CACHE", str(remote.parent / "another-worker-cache"))  # knows nothing

    clock.advance(1)
    result = sync_website(engine, site, settings=settings, now=clock)
    assert head(remote) == pushed and commit_count(remote) == 1 and not result.pushed
    assert result.marked_synced == 2
    assert row(engine, site, POST).synced_commit == pushed


def test_foreign_paths_stay_byte_identical(engine, site, remote, settings, clock):
    theme = "3" * 40  # a submodule's commit: the object lives in the theme's repository, not here
    push_foreign(remote, {
        ".github/workflows/deploy.yml": "on: push\n", "layouts/partials/x.html": "<b>x</b>\n",
        "assets/css/site.scss": "$c: red;\n", "config/production/config.yaml": "baseURL: /\n",
        ".gitmodules": '[submodule "themes/osuny"]\n\tpath = themes/osuny\n\turl = https://example.org/t.git\n',
        "content/fr/handmade.md": "orphan\n", "data/custom.yml": "a: 1\n",
    }, submodules={"themes/osuny": theme})
    foreign = ls_tree(remote)
    publish_three(engine, site, settings, clock)
    render(engine, site, POST, None, None, at=clock.advance(1))
    render(engine, site, PAGE, "content/fr/pages/new/_index.html", "moved home\n", at=clock())
    clock.advance(1)
    sync_website(engine, site, settings=settings, now=clock)
    after = ls_tree(remote)
    for path, meta in foreign.items():
        assert after.get(path) == meta, path
    assert after["themes/osuny"].startswith("160000 commit")
    fsck(remote)


def test_a_corrupt_cache_rebuilds_itself(engine, site, remote, settings, clock, cache_dir):
    publish_three(engine, site, settings, clock)
    mirror = cache_dir / "demo.git"
    (mirror / "HEAD").write_text("garbage\n")
    for obj in (mirror / "objects").rglob("*"):
        if obj.is_file():
            obj.write_bytes(b"corrupt")
    render(engine, site, POST, POST_PATH, "after corruption\n", at=clock.advance(60))
    result = sync_website(engine, site, settings=settings, now=clock)
    assert result.pushed and show(remote, POST_PATH) == "after corruption\n"
    fsck(remote)
    # a missing cache, too
    import shutil
    shutil.rmtree(mirror)
    render(engine, site, POST, POST_PATH, "after removal\n", at=clock.advance(60))
    sync_website(engine, site, settings=settings, now=clock)
    assert show(remote, POST_PATH) == "after removal\n"


def test_nothing_pending_touches_nothing(engine, site, remote, settings, clock):
    result = sync_website(engine, site, settings=settings, now=clock)
    assert result.selected == 0 and not result.pushed and head(remote) is None


def test_rows_with_missing_content_are_skipped_not_fatal(engine, site, remote, settings, clock):
    render(engine, site, POST, POST_PATH, "ok\n", at=T0)
    with Session(engine) as session, session.begin():
        session.add(GitFile(website_id=site, about_type="page", about_id="x", language="fr",
                            current_path="content/fr/x.html", current_sha="f" * 40, generated_at=T0,
                            desynchronized_at=T0))
    clock.advance(1)
    result = sync_website(engine, site, settings=settings, now=clock)
    assert set(ls_tree(remote)) == {POST_PATH}
    assert len(result.skipped) == 1 and "no stored content" in result.skipped[0]
    with Session(engine) as session:
        still = session.scalars(select(GitFile).where(GitFile.about_id == "x")).one()
        assert still.desynchronized_at is not None


def test_a_cache_corrupt_below_its_refs_rebuilds_itself(engine, site, remote, settings, clock, cache_dir):
    publish_three(engine, site, settings, clock)
    posts_tree = git(remote, "rev-parse", "main:content/fr/posts/2025").strip()
    loose = cache_dir / "demo.git" / "objects" / posts_tree[:2] / posts_tree[2:]
    loose.chmod(0o644)
    loose.write_bytes(b"not a zlib stream")  # HEAD, refs and the root tree still read fine
    render(engine, site, POST, POST_PATH, "healed\n", at=clock.advance(60))
    result = sync_website(engine, site, settings=settings, now=clock)
    assert result.pushed and show(remote, POST_PATH) == "healed\n"
    fsck(remote)


def test_remote_head_reads_the_branch_without_fetching(engine, site, remote, settings, clock, cache_dir):
    from osuny_pipeline.cms.models import Website
    from osuny_pipeline.git.mirror import remote_head

    with Session(engine) as session:
        website = session.get(Website, site)
    assert remote_head(website) is None
    publish_three(engine, site, settings, clock)
    foreign = push_foreign(remote, {"static/x.txt": "x\n"})
    assert remote_head(website) == foreign == head(remote)

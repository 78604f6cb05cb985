"""Generation against a real database, with a scripted renderer: what is stored, when a
file becomes desynchronized, deletions, failures, reads, aliases, and idempotence."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import GitFile, GitFileDependency, Permalink, Website
from osuny_pipeline.errors import OsunyError
from osuny_pipeline.owners import FileOwner, ObjectRef
from osuny_pipeline.render.generate import generate_website
from osuny_pipeline.store import blob_sha, get_content, mark_identified

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)


@dataclass(frozen=True)
class FakeRendered:
    path: str | None
    content: bytes | None
    url: str | None
    reads: frozenset = frozenset()


@dataclass
class ScriptedRenderer:
    """Renders what the test says: owner -> (path, text, url, reads) or an exception."""

    files: dict = field(default_factory=dict)
    aliases_seen: dict = field(default_factory=dict)

    def __call__(self, session, website_id, *, as_of):
        return self

    def permalink(self, owner):
        entry = self.files.get(owner)
        return None if entry is None or isinstance(entry, Exception) else entry[2]

    def render(self, owner, *, aliases=()):
        self.aliases_seen[owner] = list(aliases)
        entry = self.files.get(owner)
        if isinstance(entry, Exception):
            raise entry
        if entry is None:
            return FakeRendered(None, None, None)
        path, body, url, reads = entry
        return FakeRendered(path, body.encode(), url, frozenset(reads))


POST = FileOwner("post", "p1", "fr")
PAGE = FileOwner("page", "home", "fr")


@pytest.fixture
def website(engine):
    with Session(engine) as session:
        session.add(Website(id="demo", name="Demo", repository="/nowhere", languages=["fr"]))
        session.commit()
    return "demo"


def identify(engine, *owners, now=T0):
    with Session(engine) as session:
        mark_identified(session, "demo", owners, now)
        session.commit()


def row(engine, owner) -> GitFile | None:
    with Session(engine) as session:
        return session.scalars(select(GitFile).where(
            GitFile.about_type == owner.about_type, GitFile.about_id == owner.about_id,
            GitFile.language == owner.language)).one_or_none()


def test_new_file_is_stored_and_desynchronized(engine, website):
    renderer = ScriptedRenderer({POST: ("content/fr/posts/a.html", "A", "/a/", [ObjectRef("post", "p1")])})
    identify(engine, POST)
    result = generate_website(engine, "demo", now=T0, run_id="r1", renderer_factory=renderer)
    assert (result.changed, result.unchanged, result.failed) == (1, 0, {})
    stored = row(engine, POST)
    assert stored.current_path == "content/fr/posts/a.html"
    assert stored.current_sha == blob_sha(b"A")
    assert stored.generated_at == T0 and stored.desynchronized_at == T0
    assert stored.identified_at is None and stored.rendered_run_id == "r1"
    with Session(engine) as session:
        assert get_content(session, stored.current_sha) == b"A"
        assert session.scalars(select(GitFileDependency.about_id)).all() == ["p1"]


def test_unchanged_render_writes_nothing(engine, website):
    renderer = ScriptedRenderer({POST: ("content/fr/posts/a.html", "A", "/a/", [])})
    identify(engine, POST)
    generate_website(engine, "demo", now=T0, run_id="r1", renderer_factory=renderer)
    identify(engine, POST, now=T0 + timedelta(minutes=1))
    columns = "current_path, current_sha, generated_at, desynchronized_at, rendered_run_id, error"
    with engine.connect() as conn:
        before = conn.execute(text(f"SELECT {columns} FROM git_files")).all()
        contents = conn.execute(text("SELECT count(*) FROM git_contents")).scalar()
    result = generate_website(engine, "demo", now=T0 + timedelta(minutes=1), run_id="r2",
                              renderer_factory=renderer)
    assert (result.changed, result.unchanged) == (0, 1)
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT {columns} FROM git_files")).all() == before
        assert conn.execute(text("SELECT count(*) FROM git_contents")).scalar() == contents
    assert row(engine, POST).identified_at is None


def test_first_desync_time_is_kept_while_pending(engine, website):
    renderer = ScriptedRenderer({POST: ("content/fr/posts/a.html", "A", "/a/", [])})
    identify(engine, POST)
    generate_website(engine, "demo", now=T0, run_id="r1", renderer_factory=renderer)
    renderer.files[POST] = ("content/fr/posts/a.html", "B", "/a/", [])
    later = T0 + timedelta(minutes=5)
    identify(engine, POST, now=later)
    generate_website(engine, "demo", now=later, run_id="r2", renderer_factory=renderer)
    stored = row(engine, POST)
    assert stored.current_sha == blob_sha(b"B")
    assert stored.desynchronized_at == T0  # FIFO: a file edited every minute cannot starve
    assert stored.generated_at == later


def test_render_back_to_the_remote_content_is_in_sync(engine, website):
    renderer = ScriptedRenderer({POST: ("content/fr/posts/a.html", "A", "/a/", [])})
    identify(engine, POST)
    generate_website(engine, "demo", now=T0, run_id="r1", renderer_factory=renderer)
    with Session(engine) as session:  # as the sync would leave it
        session.execute(text("UPDATE git_files SET previous_path = current_path, previous_sha = current_sha, "
                             "desynchronized_at = NULL"))
        session.commit()
    renderer.files[POST] = ("content/fr/posts/a.html", "B", "/a/", [])
    identify(engine, POST)
    generate_website(engine, "demo", now=T0, run_id="r2", renderer_factory=renderer)
    assert row(engine, POST).desynchronized_at is not None
    renderer.files[POST] = ("content/fr/posts/a.html", "A", "/a/", [])
    identify(engine, POST)
    generate_website(engine, "demo", now=T0, run_id="r3", renderer_factory=renderer)
    assert row(engine, POST).desynchronized_at is None


def test_no_file_marks_for_deletion_or_drops_a_never_pushed_row(engine, website):
    renderer = ScriptedRenderer({POST: ("content/fr/posts/a.html", "A", "/a/", []),
                                 PAGE: ("content/fr/_index.html", "H", "/", [])})
    identify(engine, POST, PAGE)
    generate_website(engine, "demo", now=T0, run_id="r1", renderer_factory=renderer)
    with Session(engine) as session:  # the post was pushed, the page not yet
        session.execute(text("UPDATE git_files SET previous_path = current_path, previous_sha = current_sha, "
                             "desynchronized_at = NULL WHERE about_type = 'post'"))
        session.commit()
    renderer.files.clear()
    identify(engine, POST, PAGE)
    result = generate_website(engine, "demo", now=T0, run_id="r2", renderer_factory=renderer)
    assert (result.deleted, result.dropped) == (1, 1)
    stored = row(engine, POST)
    assert stored.current_path is None and stored.current_sha is None
    assert stored.desynchronized_at is not None and stored.generated_at is not None
    assert row(engine, PAGE) is None


def test_a_failing_file_is_recorded_and_the_others_render(engine, website):
    renderer = ScriptedRenderer({POST: OsunyError("post p1: slug is empty"),
                                 PAGE: ("content/fr/_index.html", "H", "/", [])})
    identify(engine, POST, PAGE)
    result = generate_website(engine, "demo", now=T0, run_id="r1", renderer_factory=renderer)
    assert result.failed == {"post:p1 (fr)": "post p1: slug is empty"}
    assert row(engine, POST).error == "post p1: slug is empty"
    assert row(engine, POST).generated_at is None
    assert row(engine, PAGE).current_path == "content/fr/_index.html"
    renderer.files[POST] = ("content/fr/posts/a.html", "A", "/a/", [])
    identify(engine, POST)
    generate_website(engine, "demo", now=T0, run_id="r2", renderer_factory=renderer)
    assert row(engine, POST).error is None


def test_two_owners_cannot_share_a_path(engine, website):
    other = FileOwner("post", "p2", "fr")
    renderer = ScriptedRenderer({POST: ("content/fr/posts/a.html", "A", "/a/", []),
                                 other: ("content/fr/posts/a.html", "B", "/a/", [])})
    identify(engine, POST, other)
    result = generate_website(engine, "demo", now=T0, run_id="r1", renderer_factory=renderer)
    assert list(result.failed) == ["post:p2 (fr)"]
    assert "already used by post:p1 (fr)" in row(engine, other).error


def test_swapped_paths_resolve_within_one_run(engine, website):
    other = FileOwner("post", "p2", "fr")
    renderer = ScriptedRenderer({POST: ("content/fr/posts/a.html", "A", "/a/", []),
                                 other: ("content/fr/posts/b.html", "B", "/b/", [])})
    identify(engine, POST, other)
    generate_website(engine, "demo", now=T0, run_id="r1", renderer_factory=renderer)
    renderer.files[POST] = ("content/fr/posts/c.html", "A", "/c/", [])
    renderer.files[other] = ("content/fr/posts/a.html", "B", "/a2/", [])
    identify(engine, POST, other)
    result = generate_website(engine, "demo", now=T0, run_id="r2", renderer_factory=renderer)
    assert result.failed == {}
    assert row(engine, other).current_path == "content/fr/posts/a.html"


def test_a_rename_keeps_the_old_url_as_an_alias(engine, website):
    renderer = ScriptedRenderer({POST: ("content/fr/posts/a.html", "A", "/old/", [])})
    identify(engine, POST)
    generate_website(engine, "demo", now=T0, run_id="r1", renderer_factory=renderer)
    renderer.files[POST] = ("content/fr/posts/b.html", "A2", "/new/", [])
    identify(engine, POST)
    result = generate_website(engine, "demo", now=T0, run_id="r2", renderer_factory=renderer)
    assert renderer.aliases_seen[POST] == ["/old/"]
    assert [c.action for c in result.changes] == ["added"]  # never pushed yet: still an addition
    renderer.files[POST] = ("content/fr/posts/a.html", "A", "/old/", [])  # and back again
    identify(engine, POST)
    generate_website(engine, "demo", now=T0, run_id="r3", renderer_factory=renderer)
    assert renderer.aliases_seen[POST] == ["/new/"]
    with Session(engine) as session:
        assert sorted(session.scalars(select(Permalink.url))) == ["/new/", "/old/"]


def test_reads_follow_the_latest_render(engine, website):
    renderer = ScriptedRenderer({PAGE: ("content/fr/_index.html", "H", "/",
                                        [ObjectRef("post", "p1"), ObjectRef("person", "ada")])})
    identify(engine, PAGE)
    generate_website(engine, "demo", now=T0, run_id="r1", renderer_factory=renderer)
    renderer.files[PAGE] = ("content/fr/_index.html", "H2", "/", [ObjectRef("post", "p2"),
                                                                 ObjectRef("person", "ada")])
    identify(engine, PAGE)
    generate_website(engine, "demo", now=T0, run_id="r2", renderer_factory=renderer)
    with Session(engine) as session:
        reads = sorted(session.execute(select(GitFileDependency.about_type, GitFileDependency.about_id)).all())
    assert reads == [("person", "ada"), ("post", "p2")]


def test_an_identification_during_the_render_keeps_the_file_pending(engine, website):
    class RequestedAgainMidRender(ScriptedRenderer):
        def render(self, owner, *, aliases=()):
            with Session(engine) as session:  # another identification lands during the render
                session.execute(update(GitFile).values(identified_at=T0 + timedelta(hours=1)))
                session.commit()
            return super().render(owner, aliases=aliases)

    identify(engine, POST)
    renderer = RequestedAgainMidRender({POST: ("content/fr/posts/a.html", "A", "/a/", [])})
    generate_website(engine, "demo", now=T0, run_id="r1", renderer_factory=renderer)
    assert row(engine, POST).identified_at == T0 + timedelta(hours=1)


def test_unknown_website_is_a_clear_error(engine):
    with pytest.raises(OsunyError, match="unknown website 'nope'"):
        generate_website(engine, "nope", now=T0, run_id="r", renderer_factory=ScriptedRenderer())


def test_two_owners_cannot_share_a_url(engine, website):
    other = FileOwner("category", "c1", "fr")
    renderer = ScriptedRenderer({POST: ("content/fr/posts/a.html", "A", "/actualites/", []),
                                 other: ("content/fr/posts_categories/a/_index.html", "C", "/actualites/", [])})
    identify(engine, POST, other)
    result = generate_website(engine, "demo", now=T0, run_id="r1", renderer_factory=renderer)
    # The first to claim the URL keeps it (here the category, whose row came first).
    assert list(result.failed) == ["post:p1 (fr)"]
    assert "URL /actualites/ is already used by category:c1 (fr)" in row(engine, POST).error
    # The holder goes away (no file any more): the URL is free for the other.
    renderer.files.pop(other)
    identify(engine, POST, other)
    result = generate_website(engine, "demo", now=T0, run_id="r2", renderer_factory=renderer)
    assert result.failed == {}
    assert row(engine, POST).current_path == "content/fr/posts/a.html"


def test_swapped_urls_resolve_within_one_run(engine, website):
    other = FileOwner("post", "p2", "fr")
    renderer = ScriptedRenderer({POST: ("content/fr/posts/a.html", "A", "/a/", []),
                                 other: ("content/fr/posts/b.html", "B", "/b/", [])})
    identify(engine, POST, other)
    generate_website(engine, "demo", now=T0, run_id="r1", renderer_factory=renderer)
    renderer.files[POST] = ("content/fr/posts/a.html", "A", "/b/", [])
    renderer.files[other] = ("content/fr/posts/b.html", "B", "/a/", [])
    identify(engine, POST, other)
    result = generate_website(engine, "demo", now=T0, run_id="r2", renderer_factory=renderer)
    assert result.failed == {}

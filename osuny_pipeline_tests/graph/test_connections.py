"""Connections appear with dependencies and vanish with them, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from osuny_pipeline.cms.models import Connection, Post, PostAuthor
from osuny_pipeline.graph.connections import rebuild_connections, refresh_connections
from osuny_pipeline_tests.graph.content import NOW, Content, R


@pytest.fixture
def c(session) -> Content:
    c = Content(session)
    c.media("m1")
    c.person("ada", image="m1")
    c.person("alan")
    c.post("p1", authors=["ada"], blocks=[("p1-b1", "persons", {"persons": ["alan"]})])
    return c.flush()


def rows(c: Content, website: str = "w1") -> set[tuple]:
    c.s.flush()
    return {(r.indirect_type, r.indirect_id, r.source_type, r.source_id)
            for r in c.s.scalars(select(Connection).where(Connection.website_id == website))}


def test_refresh_connects_the_indirect_dependencies_of_a_published_source(c):
    delta = refresh_connections(c.s, "w1", R("post", "p1"), now=NOW)
    assert delta.added == {R("person", "ada"), R("media", "m1"), R("block", "p1-b1"), R("person", "alan")}
    assert delta.removed == set()
    assert rows(c) == {("person", "ada", "post", "p1"), ("media", "m1", "post", "p1"),
                       ("block", "p1-b1", "post", "p1"), ("person", "alan", "post", "p1")}
    again = refresh_connections(c.s, "w1", R("post", "p1"), now=NOW)
    assert again.added == set() and again.removed == set(), "a second refresh changes nothing"


def test_removed_dependency_removes_its_connection(c):
    refresh_connections(c.s, "w1", R("post", "p1"), now=NOW)
    c.s.execute(delete(PostAuthor).where(PostAuthor.post_id == "p1"))
    delta = refresh_connections(c.s, "w1", R("post", "p1"), now=NOW)
    assert delta.removed == {R("person", "ada"), R("media", "m1")}
    assert rows(c) == {("block", "p1-b1", "post", "p1"), ("person", "alan", "post", "p1")}


def test_unpublished_source_loses_every_connection(c):
    refresh_connections(c.s, "w1", R("post", "p1"), now=NOW)
    c.l10n_of("post", "p1").published = False
    c.s.flush()
    delta = refresh_connections(c.s, "w1", R("post", "p1"), now=NOW)
    assert len(delta.removed) == 4 and rows(c) == set()


def test_deleted_source_loses_every_connection(c):
    refresh_connections(c.s, "w1", R("post", "p1"), now=NOW)
    c.s.delete(c.s.get(Post, "p1"))
    c.s.flush()
    assert refresh_connections(c.s, "w1", R("post", "p1"), now=NOW).removed == {
        R("person", "ada"), R("media", "m1"), R("block", "p1-b1"), R("person", "alan")}
    assert rows(c) == set()


def test_unpublished_dependency_is_not_connected(c):
    c.l10n_of("person", "ada").published = False
    c.s.flush()
    refresh_connections(c.s, "w1", R("post", "p1"), now=NOW)
    assert ("person", "ada", "post", "p1") not in rows(c)
    assert ("media", "m1", "post", "p1") not in rows(c), "the walk is cut at the unpublished person"


def test_source_on_another_website_connects_nothing_there(c):
    c.website("w2")
    assert refresh_connections(c.s, "w2", R("post", "p1"), now=NOW).added == set()
    assert rows(c, "w2") == set()


def test_rebuild_covers_every_source_and_deleted_ones(c):
    c.page("home", blocks=[("h1", "image", {"image": "m1"})])
    c.s.add(Connection(website_id="w1", indirect_type="person", indirect_id="ghost",
                       source_type="post", source_id="deleted-post"))
    c.flush()
    delta = rebuild_connections(c.s, "w1", now=NOW)
    assert delta.removed == {R("person", "ghost")}
    assert rows(c) == {("person", "ada", "post", "p1"), ("media", "m1", "post", "p1"),
                       ("block", "p1-b1", "post", "p1"), ("person", "alan", "post", "p1"),
                       ("block", "h1", "page", "home"), ("media", "m1", "page", "home")}
    assert rebuild_connections(c.s, "w1", now=NOW).added_rows == frozenset()

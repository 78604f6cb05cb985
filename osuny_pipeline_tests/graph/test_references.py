"""References: the objects whose files display an object, on both databases."""

from __future__ import annotations

import pytest

from osuny_pipeline.cms.models import Connection
from osuny_pipeline.graph.dependencies import references
from osuny_pipeline_tests.graph.content import NOW, Content, R


@pytest.fixture
def c(session) -> Content:
    return Content(session)


def refs(c: Content, type_: str, id_: str):
    c.flush()
    return references(c.s, R(type_, id_), now=NOW)


def test_page_parent_siblings_children_menus_and_list_blocks(c):
    c.page("home")
    c.page("a", parent="home")
    c.page("b", parent="home")
    c.page("a1", parent="a")
    c.page("lister", parent="home", blocks=[("sel", "pages", {"mode": "selection", "pages": ["a"]})])
    c.page("kids-of-home", blocks=[("k", "pages", {"mode": "children", "page": "home"})])
    c.page("unrelated", blocks=[("u", "pages", {"mode": "selection", "pages": ["b"]})])
    c.menu("main", [("page", "a")])
    c.menu("other", [("page", "b")])
    assert refs(c, "page", "a") == [R("menu", "main"), R("page", "a1"), R("page", "b"), R("page", "home"),
                                    R("page", "kids-of-home"), R("page", "lister")]


def test_post_categories_menus_and_blocks_that_list_or_could_list_it(c):
    c.category("news")
    c.category("local", parent="news")
    c.category("sport")
    c.post("p1", categories=["local"])
    c.menu("main", [("post", "p1")])
    c.page("all", blocks=[("b1", "posts", {"mode": "all", "quantity": 1})])
    c.page("by-news", blocks=[("b2", "posts", {"mode": "category", "category": "news"})])
    c.page("by-sport", blocks=[("b3", "posts", {"mode": "category", "category": "sport"})])
    c.page("picked", blocks=[("b4", "posts", {"mode": "selection", "posts": ["p1"]})])
    c.website("other")
    c.page("foreign-all", website="other", blocks=[("b5", "posts", {"mode": "all"})])
    # `all` lists one post: even if p1 is not in it now, a new p1 could be.
    assert refs(c, "post", "p1") == [R("category", "local"), R("menu", "main"), R("page", "all"),
                                     R("page", "by-news"), R("page", "picked")]


def test_new_post_in_a_category_rerenders_the_page_listing_that_category(c):
    c.category("news")
    c.page("home", blocks=[("b", "posts", {"mode": "category", "category": "news", "quantity": 3})])
    c.post("fresh", categories=["news"])
    assert R("page", "home") in refs(c, "post", "fresh")


def test_category_posts_pages_children_menus_and_list_blocks(c):
    c.category("news")
    c.category("local", parent="news")
    c.post("p1", categories=["news"])
    c.page("tagged", categories=["news"])
    c.menu("main", [("category", "news")])
    c.page("lists", blocks=[("b", "posts", {"mode": "category", "category": "news"})])
    c.page("lists-all", blocks=[("b2", "posts", {"mode": "all"})])
    assert refs(c, "category", "news") == [R("category", "local"), R("menu", "main"), R("page", "lists"),
                                           R("page", "tagged"), R("post", "p1")]
    # a block listing `news` lists `local`'s posts: it displays local's changes too
    assert R("page", "lists") in refs(c, "category", "local")


def test_person_connected_sources_blocks_and_authored_posts(c):
    c.person("ada")
    c.post("p1", authors=["ada"])
    c.page("team", blocks=[("b", "persons", {"persons": ["ada"]})])
    c.page("home")
    c.s.add(Connection(website_id="w1", indirect_type="person", indirect_id="ada",
                       source_type="page", source_id="home"))
    assert refs(c, "person", "ada") == [R("page", "home"), R("page", "team"), R("post", "p1")]


def test_organization_and_media_references(c):
    c.media("m1")
    c.organization("acme", logo="m1")
    c.person("ada", image="m1")
    c.page("partners", blocks=[("b", "organizations", {"organizations": ["acme"]})])
    c.page("gallery", blocks=[("i", "image", {"image": "m1"})])
    c.page("home")
    c.s.add(Connection(website_id="w1", indirect_type="media", indirect_id="m1",
                       source_type="page", source_id="home"))
    assert refs(c, "organization", "acme") == [R("page", "partners")]
    assert refs(c, "media", "m1") == [R("organization", "acme"), R("page", "gallery"), R("page", "home"),
                                      R("person", "ada")]


def test_block_is_referenced_by_its_owner(c):
    c.post("p1", blocks=[("p1-b1", "chapter", {})])
    assert refs(c, "block", "p1-b1") == [R("post", "p1")]
    assert refs(c, "block", "missing") == []

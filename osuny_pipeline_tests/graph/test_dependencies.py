"""Dependencies, publication and the recursive walk, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from osuny_pipeline.graph.dependencies import (
    dependencies,
    is_published,
    recursive_dependencies,
)
from osuny_pipeline_tests.graph.content import NOW, Content, R


@pytest.fixture
def c(session) -> Content:
    return Content(session)


def deps(c: Content, type_: str, id_: str):
    c.flush()
    return dependencies(c.s, R(type_, id_), now=NOW)


def test_post_needs_blocks_categories_authors_and_image(c):
    c.media("m1")
    c.person("ada")
    c.category("news")
    c.post("p1", categories=["news"], authors=["ada"], image="m1",
           blocks=[("p1-b1", "chapter", {}), ("p1-b2", "chapter", {})])
    assert deps(c, "post", "p1") == [R("block", "p1-b1"), R("block", "p1-b2"), R("category", "news"),
                                     R("media", "m1"), R("person", "ada")]


def test_page_needs_blocks_categories_and_parent(c):
    c.category("topic")
    c.page("home")
    c.page("about", parent="home", categories=["topic"], blocks=[("about-b1", "chapter", {})])
    assert deps(c, "page", "about") == [R("block", "about-b1"), R("category", "topic"), R("page", "home")]
    assert deps(c, "page", "home") == []


def test_category_person_organization_menu(c):
    c.media("m1")
    c.category("news")
    c.category("local", parent="news")
    c.person("ada", image="m1")
    c.organization("acme", logo="m1")
    c.page("home")
    c.menu("main", [("page", "home"), ("category", "news")])
    assert deps(c, "category", "local") == [R("category", "news")]
    assert deps(c, "person", "ada") == [R("media", "m1")]
    assert deps(c, "organization", "acme") == [R("media", "m1")]
    assert deps(c, "menu", "main") == [R("category", "news"), R("page", "home")]
    assert deps(c, "media", "m1") == []


def test_website_needs_everything_it_publishes(c):
    c.page("home")
    c.category("news")
    c.post("p1")
    c.menu("main", [])
    c.website("other")
    c.page("elsewhere", website="other")
    assert deps(c, "website", "w1") == [R("category", "news"), R("menu", "main"), R("page", "home"),
                                        R("post", "p1")]


def test_blocks_need_what_their_template_shows(c):
    c.media("m1")
    c.person("ada")
    c.person("alan")
    c.organization("acme")
    c.page("home", blocks=[
        ("img", "image", {"image": "m1"}),
        ("ppl", "persons", {"persons": ["ada", "alan"]}),
        ("org", "organizations", {"organizations": ["acme"]}),
        ("txt", "chapter", {"text": "<p>no dependency</p>"}),
    ])
    assert deps(c, "block", "img") == [R("media", "m1")]
    assert deps(c, "block", "ppl") == [R("person", "ada"), R("person", "alan")]
    assert deps(c, "block", "org") == [R("organization", "acme")]
    assert deps(c, "block", "txt") == []
    assert deps(c, "block", "missing") == []


def test_posts_block_modes(c):
    c.category("news")
    c.category("local", parent="news")
    c.category("sport")
    c.post("old", categories=["news"], published_at=NOW - timedelta(days=30))
    c.post("mid", categories=["local"], published_at=NOW - timedelta(days=20))
    c.post("new", categories=["sport"], published_at=NOW - timedelta(days=10))
    c.post("draft", categories=["news"], published=False)
    c.post("future", categories=["news"], published_at=NOW + timedelta(days=1))
    c.website("other")
    c.post("foreign", website="other")
    c.page("home", blocks=[
        ("all2", "posts", {"mode": "all", "quantity": 2}),
        ("all", "posts", {"mode": "all"}),
        ("cat", "posts", {"mode": "category", "category": "news"}),
        ("cat1", "posts", {"mode": "category", "category": "news", "quantity": 1}),
        ("sel", "posts", {"mode": "selection", "posts": ["new", "draft"]}),
    ])
    # newest first, capped by quantity; unpublished, future-dated and foreign posts are not listed
    assert deps(c, "block", "all2") == [R("post", "mid"), R("post", "new")]
    assert deps(c, "block", "all") == [R("post", "mid"), R("post", "new"), R("post", "old")]
    # a category lists its descendants' posts too
    assert deps(c, "block", "cat") == [R("post", "mid"), R("post", "old")]
    assert deps(c, "block", "cat1") == [R("post", "mid")]
    assert deps(c, "block", "sel") == [R("post", "draft"), R("post", "new")]


def test_pages_block_modes(c):
    c.page("home", blocks=[("kids", "pages", {"mode": "children"}),
                           ("theirs", "pages", {"mode": "children", "page": "a"}),
                           ("sel", "pages", {"mode": "selection", "pages": ["b"]})])
    c.page("a", parent="home", position=1)
    c.page("b", parent="home", position=0)
    c.page("a1", parent="a")
    assert deps(c, "block", "kids") == [R("page", "a"), R("page", "b")]
    assert deps(c, "block", "theirs") == [R("page", "a1")]
    assert deps(c, "block", "sel") == [R("page", "b")]


def test_publication_rules(c):
    c.media("m1")
    c.person("shown")
    c.person("hidden", published=False)
    c.post("live")
    c.post("undated", published_at=None)
    c.post("draft", published=False)
    c.post("future", published_at=NOW + timedelta(hours=1))
    c.page("home")
    c.page("offline", parent="home", published=False)
    c.page("under", parent="offline")
    c.page("kid", parent="home", blocks=[("on", "chapter", {})])
    c.menu("main", [])
    c.flush()
    c.block("on").published = False
    c.s.flush()
    undated = c.l10n_of("post", "undated")
    undated.published_at = None
    c.s.flush()

    def pub(type_, id_):
        return is_published(c.s, R(type_, id_), now=NOW)

    assert pub("person", "shown") and not pub("person", "hidden")
    assert pub("post", "live")
    assert not pub("post", "undated"), "a post needs a publication date"
    assert not pub("post", "draft") and not pub("post", "future")
    assert pub("page", "home") and pub("page", "kid")
    assert not pub("page", "offline")
    assert not pub("page", "under"), "a page under an unpublished page is not published"
    assert not pub("block", "on")
    assert pub("media", "m1") and pub("menu", "main") and pub("website", "w1")
    assert not pub("post", "nope") and not pub("media", "nope") and not pub("block", "nope")


def test_one_published_language_is_enough(session):
    c = Content(session, languages=("fr", "en"))
    c.person("ada", published=False, langs=("fr",))
    c.l10n("person", "ada", "en", published=True)
    assert is_published(c.s, R("person", "ada"), now=NOW)


def test_recursive_dependencies_terminate_on_cycles(c):
    # home lists its children; the child depends on its parent: a cycle.
    c.page("home", blocks=[("kids", "pages", {"mode": "children"})])
    c.page("child", parent="home", blocks=[("back", "pages", {"mode": "selection", "pages": ["home"]})])
    c.flush()
    walked = recursive_dependencies(c.s, R("page", "home"), now=NOW, follow_direct=True)
    assert walked == [R("block", "kids"), R("page", "child"), R("block", "back")]
    assert len(walked) == len(set(walked))


def test_recursive_dependencies_skip_direct_by_default(c):
    c.media("m1")
    c.person("ada", image="m1")
    c.category("news")
    c.post("p1", categories=["news"], blocks=[("b", "persons", {"persons": ["ada"]})])
    c.page("home", blocks=[("list", "posts", {"mode": "all"})])
    c.flush()
    walked = recursive_dependencies(c.s, R("page", "home"), now=NOW)
    assert walked == [R("block", "list"), R("post", "p1")], "a post reached is not descended into"
    deep = recursive_dependencies(c.s, R("page", "home"), now=NOW, follow_direct=True)
    assert set(deep) == {R("block", "list"), R("post", "p1"), R("block", "b"), R("person", "ada"),
                         R("media", "m1"), R("category", "news")}
    assert recursive_dependencies(c.s, R("post", "p1"), now=NOW) == [
        R("block", "b"), R("person", "ada"), R("media", "m1"), R("category", "news")]


def test_unpublished_objects_cut_the_walk(c):
    c.media("m1")
    c.person("ghost", image="m1", published=False)
    c.post("p1", authors=["ghost"], blocks=[("hidden", "image", {"image": "m1"})])
    c.post("draft", published=False, blocks=[("b", "image", {"image": "m1"})])
    c.flush()
    c.block("hidden").published = False
    c.s.flush()
    assert recursive_dependencies(c.s, R("post", "p1"), now=NOW) == []
    assert recursive_dependencies(c.s, R("post", "draft"), now=NOW) == [], "an unpublished root walks nothing"

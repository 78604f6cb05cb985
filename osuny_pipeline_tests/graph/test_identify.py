"""Identification from the real change log (triggers) to git_files rows, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from osuny_pipeline.cms.models import (
    ChangeLog,
    Connection,
    GitFile,
    GitFileDependency,
    Post,
    PostAuthor,
    Website,
    WebsiteState,
)
from osuny_pipeline.errors import OsunyError
from osuny_pipeline.graph.identify import (
    identify,
    identify_website,
    owners_of,
    website_owners,
)
from osuny_pipeline.owners import FileOwner
from osuny_pipeline.store import get_or_create_git_file
from osuny_pipeline_tests.graph.content import NOW, Content, R


def O(type_: str, id_: str, lang: str = "fr") -> FileOwner:  # noqa: E743, N802
    return FileOwner(type_, id_, lang)


@pytest.fixture
def c(session) -> Content:
    """w1 shows ada (author of p1); w2 shows nobody. Everything identified once already."""
    c = Content(session)
    c.website("w2")
    c.media("m1")
    c.person("ada", image="m1")
    c.person("alan")
    c.category("news")
    c.page("home", blocks=[("home-b1", "posts", {"mode": "category", "category": "news", "quantity": 3})])
    c.page("formation", parent="home")
    c.page("international", parent="formation")
    c.post("p1", categories=["news"], authors=["ada"], blocks=[("p1-b1", "chapter", {})])
    c.post("p2", categories=["news"])
    c.page("w2-home", website="w2")
    c.flush()
    for site in ("w1", "w2"):
        identify_website(session, site, now=NOW)
    return c


def again(c: Content, site: str = "w1", **kw):
    c.s.flush()
    return identify_website(c.s, site, now=NOW, **kw)


def test_first_identification_of_a_new_site_is_the_whole_site(session):
    c = Content(session, languages=("fr", "en"))
    c.page("home", langs=("fr", "en"))
    c.l10n("page", "home", "de")  # not an active language: no file
    result = identify_website(session, "w1", now=NOW)
    assert result.full
    assert result.owners == {O("page", "home"), O("page", "home", "en"),
                             O("website", "w1"), O("website", "w1", "en"), O("website_config", "w1", ""),
                             *(O("section", s, lang) for s in ("posts", "persons", "organizations")
                               for lang in ("fr", "en"))}
    identified = set(session.execute(select(GitFile.about_type, GitFile.about_id, GitFile.language)
                                     .where(GitFile.identified_at.is_not(None))))
    assert identified == set(result.owners)


def test_cursor_advances_and_a_second_call_identifies_nothing(c):
    c.l10n_of("post", "p2").title = "Rentrée"
    first = again(c)
    assert first.changes_read == 1 and first.objects == 1
    assert O("post", "p2") in first.owners
    top = c.s.scalar(select(ChangeLog.id).order_by(ChangeLog.id.desc()).limit(1))
    assert first.cursor == top == c.s.get(WebsiteState, "w1").identified_change_id
    second = again(c)
    assert second.changes_read == 0 and second.owners == frozenset() and second.cursor == top


def test_upto_bounds_what_is_consumed(c):
    c.l10n_of("post", "p1").title = "one"
    mark = c.last_change_id()
    c.l10n_of("post", "p2").title = "two"
    bounded = again(c, upto=mark)
    assert O("post", "p1") in bounded.owners and O("post", "p2") not in bounded.owners
    assert again(c).owners >= {O("post", "p2")}


def test_burst_of_block_saves_is_one_object_and_each_owner_once(c):
    for i in range(20):
        c.s.add(type(c.block("p1-b1"))(id=f"p1-x{i}", localization_id=c.l10n_of("post", "p1").id,
                                       template="chapter", data={}))
    again(c)
    for round_ in range(50):
        for i in range(20):
            c.block(f"p1-x{i}").data = {"text": f"v{round_}"}
        c.s.flush()
    result = again(c)
    assert result.changes_read == 1000
    assert result.objects == 1
    # the post, its author and the author's image (dependencies), the category and the home
    # page listing it (references)
    assert result.owners == {O("post", "p1"), O("person", "ada"), O("media", "m1", ""),
                             O("category", "news"), O("page", "home")}
    counts = c.s.execute(select(GitFile.about_type, GitFile.about_id, GitFile.language)
                         .where(GitFile.website_id == "w1")).all()
    assert len(counts) == len(set(counts)), "one git_file per owner"


def test_edit_identifies_references_and_not_unrelated_files(c):
    c.l10n_of("page", "formation").title = "Formations"
    result = again(c)
    assert {O("page", "formation"), O("page", "home"), O("page", "international")} <= result.owners
    assert O("post", "p2") not in result.owners and O("person", "alan") not in result.owners


def test_new_author_connects_and_identifies_the_person(c):
    c.s.add(PostAuthor(post_id="p2", person_id="alan"))
    result = again(c)
    assert O("person", "alan") in result.owners
    assert result.connections_added == 1
    assert c.s.scalar(select(Connection.id).where(Connection.indirect_id == "alan")) is not None


def test_removed_author_is_identified_so_that_its_file_is_deleted(c):
    c.s.execute(delete(PostAuthor).where(PostAuthor.person_id == "ada"))
    result = again(c)
    assert {O("person", "ada"), O("media", "m1", "")} <= result.owners
    assert result.connections_removed == 2
    assert c.s.scalar(select(Connection.id).where(Connection.indirect_id == "ada")) is None


def test_unpublished_source_identifies_its_disconnected_objects(c):
    c.l10n_of("post", "p1").published = False
    result = again(c)
    assert {O("post", "p1"), O("person", "ada"), O("media", "m1", "")} <= result.owners
    assert result.connections_removed == 3  # ada, m1, p1-b1


def test_deleted_post_identifies_its_file_readers_and_connections(c):
    get_or_create_git_file(c.s, "w1", O("post", "p2"))
    reader = get_or_create_git_file(c.s, "w1", O("page", "formation"))
    c.s.add(GitFileDependency(git_file_id=reader.id, about_type="post", about_id="p2"))
    c.s.delete(c.s.get(Post, "p2"))
    result = again(c)
    # its own file (deleted by generation), the page whose last render listed it
    assert {O("post", "p2"), O("page", "formation")} <= result.owners
    c.s.delete(c.s.get(Post, "p1"))
    assert {O("person", "ada"), O("media", "m1", "")} <= again(c).owners


def test_person_edit_touches_only_websites_that_show_it(c):
    c.l10n_of("person", "ada").summary = "Mathématicienne"
    assert again(c, "w2").owners == frozenset()
    result = again(c, "w1")
    assert {O("person", "ada"), O("post", "p1")} <= result.owners


def test_unpublished_person_is_identified_with_the_posts_that_link_it(c):
    c.l10n_of("person", "ada").published = False
    result = again(c)
    assert {O("person", "ada"), O("post", "p1")} <= result.owners
    assert c.s.scalar(select(Connection.id).where(Connection.indirect_id == "ada")) is None


def test_new_post_in_category_identifies_the_page_listing_it(c):
    c.post("p3", categories=["news"], published_at=NOW - timedelta(hours=1))
    assert {O("post", "p3"), O("page", "home"), O("category", "news")} <= again(c).owners


def test_website_change_means_the_whole_site(c):
    c.s.get(Website, "w1").name = "Renamed"
    result = again(c)
    assert result.full
    assert result.owners == website_owners(c.s, "w1", now=NOW)
    assert {O("website_config", "w1", ""), O("section", "posts"), O("person", "ada"),
            O("media", "m1", ""), O("page", "international")} <= result.owners
    assert O("person", "alan") not in result.owners, "not shown by w1"


def test_full_identification_consumes_the_log(c):
    c.l10n_of("post", "p2").title = "x"
    result = again(c, full=True)
    assert result.full and result.changes_read == 1
    assert again(c).changes_read == 0


def test_owners_of(c):
    get_or_create_git_file(c.s, "w1", O("post", "gone"))
    assert owners_of(c.s, "w1", R("block", "p1-b1")) == {O("post", "p1")}
    assert owners_of(c.s, "w1", R("page", "w2-home")) == set(), "another website's page"
    assert owners_of(c.s, "w1", R("post", "gone")) == {O("post", "gone")}, "existing git_files are re-examined"
    assert owners_of(c.s, "w1", R("media", "m1")) == {O("media", "m1", "")}


def test_identify_takes_change_rows_directly(c):
    c.l10n_of("post", "p2").title = "direct"
    c.s.flush()
    rows = c.s.scalars(select(ChangeLog).where(ChangeLog.about_id == "p2")).all()
    result = identify(c.s, "w1", rows, now=NOW)
    assert O("post", "p2") in result.owners and result.objects == 1


def test_unknown_website_is_a_clear_error(c):
    with pytest.raises(OsunyError, match="unknown website 'nope'"):
        identify_website(c.s, "nope", now=NOW)

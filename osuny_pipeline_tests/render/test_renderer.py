"""SiteRenderer against real databases (SQLite and PostgreSQL): paths, publication,
reads, aliases, languages, goldens."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import Block, Connection, Localization, Menu, MenuItem, Page, Post, Website
from osuny_pipeline.owners import FileOwner, ObjectRef
from osuny_pipeline.render import TEMPLATES_VERSION, Rendered, RenderError, SiteRenderer
from osuny_pipeline_tests.render.builders import (
    AS_OF,
    MEDIA_ID,
    base_content,
    clear_content,
    load_content,
    render_all_owners,
)

GOLDEN = Path(__file__).parent / "golden"

# The acceptance suite's paths (/work/shared/acceptance/test_acceptance.py).
ACCEPTANCE_PATHS = {
    FileOwner("post", "p1", "fr"): "content/fr/posts/2025/2025-01-07-colloque-les-vacances.html",
    FileOwner("post", "p2", "fr"): "content/fr/posts/2025/2025-09-01-rentree-2025.html",
    FileOwner("page", "home", "fr"): "content/fr/_index.html",
    FileOwner("page", "formation", "fr"): "content/fr/pages/formation/_index.html",
    FileOwner("page", "international", "fr"): "content/fr/pages/formation/international/_index.html",
    FileOwner("person", "ada", "fr"): "content/fr/persons/ada-lovelace.html",
    FileOwner("person", "alan", "fr"): "content/fr/persons/alan-turing.html",
    FileOwner("organization", "acme", "fr"): "content/fr/organizations/acme.html",
    FileOwner("category", "news", "fr"): "content/fr/posts_categories/actualites/_index.html",
    FileOwner("website", "demo", "fr"): "data/website/fr.yml",
    FileOwner("menu", "primary-fr"): "data/menus/fr/primary.yml",
    FileOwner("media", MEDIA_ID): f"data/media/{MEDIA_ID[:2]}/{MEDIA_ID}.yml",
    FileOwner("website_config", "demo"): "config/_default/languages.yaml",
    FileOwner("section", "posts", "fr"): "content/fr/posts/_index.html",
    FileOwner("section", "persons", "fr"): "content/fr/persons/_index.html",
    FileOwner("section", "organizations", "fr"): "content/fr/organizations/_index.html",
}


def parse(rendered: Rendered) -> dict:
    """A content file's front matter, or a data file, through the real parser."""
    assert rendered.content is not None
    text = rendered.content.decode("utf-8")
    if rendered.path and rendered.path.startswith("content/"):
        assert text.startswith("---\n") and text.endswith("\n---\n")
        return yaml.safe_load(text[4:-4])
    return yaml.safe_load(text)


def fresh(session: Session, as_of: datetime = AS_OF) -> SiteRenderer:
    """A new renderer: indexes are built once per renderer, so a test that edits makes a new one."""
    session.commit()
    return SiteRenderer(session, "demo", as_of=as_of)


def set_l10n(session: Session, about_type: str, about_id: str, lang: str = "fr", **values) -> None:
    session.execute(update(Localization).where(
        Localization.about_type == about_type, Localization.about_id == about_id, Localization.language == lang,
    ).values(**values))


# --------------------------------------------------------------------------- paths and URLs


def test_acceptance_paths(renderer: SiteRenderer):
    for owner, path in ACCEPTANCE_PATHS.items():
        rendered = renderer.render(owner)
        assert rendered.path == path, owner
        parse(rendered)


def test_urls(renderer: SiteRenderer):
    assert renderer.permalink(FileOwner("post", "p1", "fr")) == "/actualites/2025-01-07-colloque-les-vacances/"
    assert renderer.permalink(FileOwner("page", "home", "fr")) == "/"
    assert renderer.permalink(FileOwner("page", "international", "fr")) == "/formation/international/"
    assert renderer.permalink(FileOwner("category", "news", "fr")) == "/actualites/actualites/"
    assert renderer.permalink(FileOwner("person", "ada", "fr")) == "/equipe/ada-lovelace/"
    assert renderer.permalink(FileOwner("organization", "acme", "fr")) == "/organisations/acme/"
    assert renderer.permalink(FileOwner("section", "persons", "fr")) == "/equipe/"
    for data_owner in (FileOwner("menu", "primary-fr"), FileOwner("media", MEDIA_ID), FileOwner("website", "demo", "fr")):
        assert renderer.permalink(data_owner) is None
        assert renderer.render(data_owner).url is None


def test_second_language_is_prefixed_and_translated(demo: Session):
    demo.execute(update(Website).where(Website.id == "demo").values(languages=["fr", "en"]))
    for about_type, about_id in (("page", "home"), ("page", "formation"), ("post", "p1"), ("person", "ada")):
        row = demo.execute(select(Localization).where(
            Localization.about_type == about_type, Localization.about_id == about_id)).scalar_one()
        demo.add(Localization(about_type=about_type, about_id=about_id, language="en", title=f"EN {row.title}",
                              slug=row.slug, first_name=row.first_name, last_name=row.last_name, published=True,
                              published_at=row.published_at))
    renderer = fresh(demo)
    assert renderer.render(FileOwner("page", "home", "en")).path == "content/en/_index.html"
    assert renderer.permalink(FileOwner("page", "home", "en")) == "/en/"
    assert renderer.permalink(FileOwner("page", "formation", "en")) == "/en/formation/"
    assert renderer.permalink(FileOwner("post", "p1", "en")) == "/en/news/2025-01-07-colloque-les-vacances/"
    assert renderer.permalink(FileOwner("person", "ada", "en")) == "/en/team/ada-lovelace/"
    assert renderer.permalink(FileOwner("section", "posts", "en")) == "/en/news/"
    assert parse(renderer.render(FileOwner("section", "posts", "en")))["title"] == "News"
    assert renderer.render(FileOwner("website", "demo", "en")).path == "data/website/en.yml"
    # Not translated into English: no file.
    assert renderer.render(FileOwner("page", "international", "en")).path is None
    config = parse(renderer.render(FileOwner("website_config", "demo")))
    assert list(config) == ["fr", "en"] and config["en"]["contentDir"] == "content/en"
    assert config["fr"]["weight"] == 1 and config["en"]["label"] == "English"


def test_post_date_and_path_use_the_website_time_zone(demo: Session):
    # 23:30 UTC on Jan 6 is Jan 7 in Paris: the file is dated the 7th.
    set_l10n(demo, "post", "p1", published_at=datetime(2025, 1, 6, 23, 30, tzinfo=UTC))
    rendered = fresh(demo).render(FileOwner("post", "p1", "fr"))
    assert rendered.path == "content/fr/posts/2025/2025-01-07-colloque-les-vacances.html"
    assert b"date: 2025-01-07T00:30:00+01:00\n" in rendered.content
    demo.execute(update(Website).values(time_zone="America/New_York"))
    assert fresh(demo).render(FileOwner("post", "p1", "fr")).path.endswith("/2025-01-06-colloque-les-vacances.html")
    demo.execute(update(Website).values(time_zone="Mars/Olympus"))
    with pytest.raises(RenderError, match="time zone"):
        fresh(demo).render(FileOwner("post", "p1", "fr"))


def test_renaming_a_parent_moves_descendants(demo: Session):
    set_l10n(demo, "page", "formation", slug="formations")
    renderer = fresh(demo)
    assert renderer.render(FileOwner("page", "international", "fr")).path == \
        "content/fr/pages/formations/international/_index.html"
    assert renderer.permalink(FileOwner("page", "international", "fr")) == "/formations/international/"


# --------------------------------------------------------------------------- when there is no file


def test_unpublished_future_and_dateless_posts(demo: Session):
    set_l10n(demo, "post", "p2", published=False)
    assert fresh(demo).render(FileOwner("post", "p2", "fr")) .path is None
    future = AS_OF + timedelta(seconds=1)
    set_l10n(demo, "post", "p2", published=True, published_at=future)
    assert fresh(demo).render(FileOwner("post", "p2", "fr")).path is None
    later = fresh(demo, as_of=future).render(FileOwner("post", "p2", "fr"))
    assert later.path == "content/fr/posts/2026/2026-01-01-rentree-2025.html"
    set_l10n(demo, "post", "p2", published_at=None)
    renderer = fresh(demo)
    with pytest.raises(RenderError, match=r"post:p2 \(fr\).*published_at"):
        renderer.render(FileOwner("post", "p2", "fr"))
    # Lists and menus skip the broken post instead of failing with it.
    home = parse(renderer.render(FileOwner("page", "home", "fr")))
    assert [p["slug"] for p in home["contents"][1]["data"]["posts"]] == ["colloque-les-vacances"]


def test_no_file_cases(demo: Session):
    demo.execute(delete(Post).where(Post.id == "p2"))
    set_l10n(demo, "page", "formation", published=False)
    set_l10n(demo, "category", "news", published=False)
    demo.execute(delete(Connection).where(Connection.indirect_id.in_(["alan", "acme", MEDIA_ID])))
    demo.add(Menu(id="empty-fr", website_id="demo", identifier="empty", language="fr"))
    demo.add(Website(id="other", name="Other", repository=".", languages=["fr"]))
    demo.flush()
    demo.add(Menu(id="other-menu", website_id="other", identifier="main", language="fr"))
    demo.flush()
    demo.add(MenuItem(menu_id="other-menu", title="x", url="https://x"))
    renderer = fresh(demo)
    for owner in (
        FileOwner("post", "p2", "fr"),  # deleted
        FileOwner("post", "ghost", "fr"),  # never existed
        FileOwner("page", "formation", "fr"),  # unpublished
        FileOwner("page", "international", "fr"),  # unpublished parent
        FileOwner("category", "news", "fr"),
        FileOwner("person", "alan", "fr"),  # not connected
        FileOwner("organization", "acme", "fr"),
        FileOwner("media", MEDIA_ID),
        FileOwner("menu", "empty-fr"),  # no items
        FileOwner("menu", "other-menu"),  # another website's
        FileOwner("post", "p1", "en"),  # language not active
        FileOwner("website", "demo", "en"),
        FileOwner("section", "posts", "de"),
    ):
        rendered = renderer.render(owner)
        assert rendered == Rendered(None, None, None, rendered.reads), owner
        assert renderer.permalink(owner) is None
    # What is gone is no longer linked either.
    post = parse(renderer.render(FileOwner("post", "p1", "fr")))
    assert post["posts_categories"] == [] and "image" not in post
    menu = parse(renderer.render(FileOwner("menu", "primary-fr")))
    assert [item["title"] for item in menu["items"]] == ["Accueil", "Osuny"]
    assert SiteRenderer(demo, "nowhere", as_of=AS_OF).render(FileOwner("page", "home", "fr")).path is None


def test_unpublished_author_is_not_linked(demo: Session):
    set_l10n(demo, "person", "ada", published=False)
    renderer = fresh(demo)
    assert renderer.render(FileOwner("person", "ada", "fr")).path is None
    post = renderer.render(FileOwner("post", "p1", "fr"))
    assert b"ada-lovelace" not in post.content
    assert parse(post)["authors"] == []
    assert ObjectRef("person", "ada") in post.reads  # publishing her again must re-render the post
    home = parse(renderer.render(FileOwner("page", "home", "fr")))
    assert home["contents"][2]["data"]["persons"] == []


def test_unpublished_blocks_are_skipped(demo: Session):
    demo.execute(update(Block).where(Block.id == "home-b1").values(published=False))
    home = parse(fresh(demo).render(FileOwner("page", "home", "fr")))
    assert [b["template"] for b in home["contents"]] == ["posts", "persons"]


# --------------------------------------------------------------------------- reads and aliases


def test_reads_name_everything_used(renderer: SiteRenderer):
    post = renderer.render(FileOwner("post", "p1", "fr"))
    assert {ObjectRef("post", "p1"), ObjectRef("person", "ada"), ObjectRef("category", "news"),
            ObjectRef("media", MEDIA_ID), ObjectRef("website", "demo"), ObjectRef("block", "p1-b1"),
            ObjectRef("page", "home")} <= post.reads
    assert ObjectRef("post", "p2") not in post.reads
    page = renderer.render(FileOwner("page", "international", "fr"))
    assert {ObjectRef("page", "international"), ObjectRef("page", "formation"), ObjectRef("page", "home")} <= page.reads
    home = renderer.render(FileOwner("page", "home", "fr"))
    assert {ObjectRef("post", "p1"), ObjectRef("post", "p2"), ObjectRef("category", "news"),
            ObjectRef("person", "ada"), ObjectRef("page", "formation")} <= home.reads
    menu = renderer.render(FileOwner("menu", "primary-fr"))
    assert {ObjectRef("menu", "primary-fr"), ObjectRef("page", "international"), ObjectRef("page", "formation")} <= menu.reads
    media = renderer.render(FileOwner("media", MEDIA_ID))
    assert media.reads == {ObjectRef("media", MEDIA_ID), ObjectRef("website", "demo")}
    # A file that disappears still says what decided it.
    assert ObjectRef("post", "ghost") in renderer.render(FileOwner("post", "ghost", "fr")).reads


def test_aliases_are_sorted_without_the_current_url(renderer: SiteRenderer):
    owner = FileOwner("post", "p1", "fr")
    current = renderer.permalink(owner)
    rendered = renderer.render(owner, aliases=["/z/", current, "/a/", "/a/"])
    assert parse(rendered)["aliases"] == ["/a/", "/z/"]
    assert parse(renderer.render(owner))["aliases"] == []
    with pytest.raises(RenderError, match="alias"):
        renderer.render(owner, aliases=[None])  # type: ignore[list-item]


def test_list_blocks(demo: Session):
    loc_id = demo.execute(select(Localization.id).where(Localization.about_id == "formation")).scalar_one()
    demo.add_all([
        Block(id="f-all", localization_id=loc_id, position=10, template="posts", data={"mode": "all", "quantity": 1}),
        Block(id="f-sel", localization_id=loc_id, position=11, template="posts",
              data={"mode": "selection", "posts": ["p1", "ghost", "p2"]}),
        Block(id="f-pages", localization_id=loc_id, position=12, template="pages", data={"mode": "children"}),
        Block(id="f-org", localization_id=loc_id, position=13, template="organizations",
              data={"organizations": ["acme"]}),
        Block(id="f-other", localization_id=loc_id, position=14, template="video",
              data={"url": "https://v", "z": {"b": [1, "x", None], "a": True}}),
    ])
    renderer = fresh(demo)
    page = renderer.render(FileOwner("page", "formation", "fr"))
    blocks = {b["template"] + str(i): b for i, b in enumerate(parse(page)["contents"])}
    assert [p["slug"] for p in blocks["posts1"]["data"]["posts"]] == ["rentree-2025"]
    assert [p["slug"] for p in blocks["posts2"]["data"]["posts"]] == ["colloque-les-vacances", "rentree-2025"]
    assert [p["file"] for p in blocks["pages3"]["data"]["pages"]] == ["content/fr/pages/formation/international/_index.html"]
    assert blocks["organizations4"]["data"]["organizations"][0]["name"] == "ACME"
    assert blocks["video5"]["data"] == {"url": "https://v", "z": {"a": True, "b": [1, "x", None]}}
    assert {ObjectRef("post", "p2"), ObjectRef("organization", "acme"), ObjectRef("page", "international"),
            ObjectRef("post", "ghost")} <= page.reads


def test_bad_block_data_is_a_clear_error(demo: Session):
    demo.execute(update(Block).where(Block.id == "p1-b1").values(data={"text": {"not": "text"}}))
    with pytest.raises(RenderError, match=r"block p1-b1 of post:p1 \(fr\).*'text'"):
        fresh(demo).render(FileOwner("post", "p1", "fr"))


def test_unknown_owner_kind_and_section(renderer: SiteRenderer):
    with pytest.raises(RenderError, match="unknown owner kind"):
        renderer.render(FileOwner("event", "e1", "fr"))
    with pytest.raises(RenderError, match="unknown section"):
        renderer.render(FileOwner("section", "events", "fr"))


def test_page_parent_cycle_is_an_error(demo: Session):
    demo.execute(update(Page).where(Page.id == "home").values(parent_id="international"))
    with pytest.raises(RenderError, match="cycle"):
        fresh(demo).render(FileOwner("page", "formation", "fr"))


def test_templates_version_is_a_short_hash():
    assert len(TEMPLATES_VERSION) == 12 and int(TEMPLATES_VERSION, 16) >= 0


# --------------------------------------------------------------------------- goldens

GOLDEN_OWNERS = {
    "post.html": FileOwner("post", "p1", "fr"),
    "page.html": FileOwner("page", "formation", "fr"),
    "home.html": FileOwner("page", "home", "fr"),
    "category.html": FileOwner("category", "news", "fr"),
    "person.html": FileOwner("person", "ada", "fr"),
    "organization.html": FileOwner("organization", "acme", "fr"),
    "section.html": FileOwner("section", "posts", "fr"),
    "menu.yml": FileOwner("menu", "primary-fr"),
    "media.yml": FileOwner("media", MEDIA_ID),
    "website.yml": FileOwner("website", "demo", "fr"),
    "languages.yaml": FileOwner("website_config", "demo"),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_OWNERS))
def test_golden_files(renderer: SiteRenderer, name: str):
    """Regenerate with OSUNY_UPDATE_GOLDEN=1 after a deliberate format change."""
    owner = GOLDEN_OWNERS[name]
    aliases = ["/ancienne-adresse/"] if owner.about_type == "post" else []
    content = renderer.render(owner, aliases=aliases).content
    golden = GOLDEN / name
    if os.environ.get("OSUNY_UPDATE_GOLDEN") == "1":
        golden.write_bytes(content)
    assert content == golden.read_bytes(), f"{name} differs from its golden file (OSUNY_UPDATE_GOLDEN=1 to accept)"


def test_goldens_follow_the_osuny_sample_structure():
    post = yaml.safe_load((GOLDEN / "post.html").read_text("utf-8").strip("-\n"))
    assert list(post)[:6] == ["title", "url", "slug", "aliases", "date", "meta"]
    assert set(post["meta"]["hugo"]) == {"permalink", "path", "file", "slug"}
    assert {"created_at", "updated_at", "lastmod"}.isdisjoint({*post, *post["meta"]["dates"]})
    assert post["translationKey"] == "communication-website-post-p1"
    assert post["breadcrumbs"][-1] == {"title": "Colloque « Les vacances »"}


def test_shuffled_insertion_order_renders_the_same_bytes(session: Session):
    """Same content inserted in other orders (so other localization and menu item ids):
    byte-identical files."""
    outputs = []
    for seed in (None, 1, 2):
        clear_content(session)
        load_content(session, base_content(), shuffle_seed=seed)
        outputs.append(render_all_owners(session))
    assert outputs[0] == outputs[1] == outputs[2]
    assert len(outputs[0]) == len(ACCEPTANCE_PATHS)

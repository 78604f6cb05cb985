"""No slug, id, identifier or language can put a file outside content/, data/, config/."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import Localization, Menu, Website
from osuny_pipeline.owners import FileOwner
from osuny_pipeline.render import RenderError, SiteRenderer
from osuny_pipeline.render.paths import assert_safe_path
from osuny_pipeline_tests.render.builders import AS_OF, base_content, clear_content, load_content

HOSTILE_SLUGS = ["../../../etc/passwd", "..", ".git", "a/../../b", "\\windows\\system32", "x\x00y", "/abs",
                 "con:tent", " ", "-", ". .", "a//b", "ÉTÉ 2025 ⛱", "\n", "%2e%2e%2f", "~root"]


def hostile_content(slug: str, ident: str) -> dict:
    content = base_content()
    content["media"][0]["id"] = f"{ident}media"
    content["people"][0]["image"] = f"{ident}media"
    content["posts"][0]["image"] = f"{ident}media"
    content["posts"][0]["id"] = f"{ident}post"
    content["posts"][0]["localizations"]["fr"]["slug"] = slug
    content["pages"][1]["localizations"]["fr"]["slug"] = slug
    content["people"][0]["localizations"]["fr"]["slug"] = slug
    content["categories"][0]["localizations"]["fr"]["slug"] = slug
    content["menus"][0]["identifier"] = ident + "menu"
    return content


def test_hostile_slugs_and_ids_stay_inside(session: Session):
    pg = session.get_bind().dialect.name == "postgresql"
    for slug in HOSTILE_SLUGS:
        if pg:
            slug = slug.replace("\x00", "")  # PostgreSQL text cannot hold NUL at all
        ident = slug.replace("\x00", "")  # ids are keys: keep them printable
        clear_content(session)
        load_content(session, hostile_content(slug, ident))
        renderer = SiteRenderer(session, "demo", as_of=AS_OF)
        owners = [FileOwner("post", f"{ident}post", "fr"), FileOwner("page", "formation", "fr"),
                  FileOwner("page", "international", "fr"), FileOwner("person", "ada", "fr"),
                  FileOwner("category", "news", "fr"), FileOwner("menu", "primary-fr"),
                  FileOwner("media", f"{ident}media")]
        for owner in owners:
            rendered = renderer.render(owner)
            assert rendered.path is not None, (slug, owner)
            assert assert_safe_path(rendered.path) == rendered.path
            segments = rendered.path.split("/")
            assert ".." not in segments and ".git" not in segments and "" not in segments, rendered.path
            if rendered.url:
                assert rendered.url.startswith("/") and "/../" not in rendered.url and "\\" not in rendered.url


def test_empty_slug_falls_back_to_title_then_id(demo: Session):
    def set_post(**values):
        demo.execute(update(Localization).where(Localization.about_id == "p2").values(**values))
        demo.commit()
        return SiteRenderer(demo, "demo", as_of=AS_OF).render(FileOwner("post", "p2", "fr")).path

    assert set_post(slug="") == "content/fr/posts/2025/2025-09-01-rentree-2025.html"
    assert set_post(slug="", title="日本語") == "content/fr/posts/2025/2025-09-01-p2.html"
    assert set_post(slug="!!!", title=None) == "content/fr/posts/2025/2025-09-01-p2.html"


def test_an_unusable_slug_is_a_clear_error(session: Session):
    content = base_content()
    content["posts"][1]["id"] = "日本"
    content["posts"][1]["localizations"]["fr"].update(slug="", title="…")
    load_content(session, content)
    with pytest.raises(RenderError, match="post:日本.*no usable slug"):
        SiteRenderer(session, "demo", as_of=AS_OF).render(FileOwner("post", "日本", "fr"))


def test_hostile_language_and_identifier_are_refused_or_cleaned(demo: Session):
    demo.execute(update(Menu).values(identifier="../../.git/hooks"))
    demo.commit()
    rendered = SiteRenderer(demo, "demo", as_of=AS_OF).render(FileOwner("menu", "primary-fr"))
    assert rendered.path == "data/menus/fr/git-hooks.yml"
    demo.execute(update(Website).values(languages=["fr", "../x"]))
    demo.commit()
    with pytest.raises(RenderError, match="language code"):
        SiteRenderer(demo, "demo", as_of=AS_OF).render(FileOwner("website", "demo", "../x"))
    with pytest.raises(RenderError, match="language code"):
        SiteRenderer(demo, "demo", as_of=AS_OF).render(FileOwner("website_config", "demo"))

"""Test content for the renderer: the FIXTURES.md format written with the ORM models.

A small loader of our own on purpose (the project's fixture loader is written in
parallel): it inserts, in an order that can be shuffled, and connects the indirect
objects the way identification would."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import (
    Block,
    Category,
    Connection,
    Localization,
    Medium,
    Menu,
    MenuItem,
    Organization,
    Page,
    PageCategory,
    Person,
    Post,
    PostAuthor,
    PostCategory,
    Website,
)
from osuny_pipeline.owners import FileOwner
from osuny_pipeline.render import SiteRenderer

MEDIA_ID = "7c1e3f0a-5b7d-4c1e-9f00-1a2b3c4d5e6f"
AS_OF = datetime(2026, 1, 1, tzinfo=UTC)


def base_content() -> dict[str, Any]:
    """/work/shared/acceptance/conftest.py `base_content`, with its repository left out."""
    fr = lambda **kw: {"published": True, **kw}  # noqa: E731
    return {
        "websites": [{
            "id": "demo", "name": "IUT Démo", "url": "https://www.example.org",
            "repository": "./remote.git", "branch": "main", "languages": ["fr"],
        }],
        "media": [{
            "id": MEDIA_ID, "name": "photo.jpg", "content_type": "image/jpeg",
            "size": 134249, "width": 640, "height": 480, "url": "https://cdn.example.org/photo.jpg",
        }],
        "people": [
            {"id": "ada", "image": MEDIA_ID, "localizations": {"fr": fr(
                first_name="Ada", last_name="Lovelace", slug="ada-lovelace",
                summary="Mathématicienne", biography="<p>Pionnière.</p>")}},
            {"id": "alan", "localizations": {"fr": fr(
                first_name="Alan", last_name="Turing", slug="alan-turing",
                summary="Logicien", biography="<p>Calculabilité.</p>")}},
        ],
        "organizations": [
            {"id": "acme", "localizations": {"fr": fr(name="ACME", slug="acme", summary="Partenaire", text="<p>ACME</p>")}},
        ],
        "categories": [
            {"id": "news", "website": "demo", "kind": "posts", "parent": None, "position": 0,
             "localizations": {"fr": fr(name="Actualités", slug="actualites")}},
        ],
        "pages": [
            {"id": "home", "website": "demo", "parent": None, "position": 0, "categories": [],
             "localizations": {"fr": fr(title="Accueil", slug="", summary="Bienvenue", blocks=[
                 {"id": "home-b1", "template": "chapter", "data": {"text": "<p>Bonjour</p>"}},
                 {"id": "home-b2", "template": "posts", "data": {"mode": "category", "category": "news", "quantity": 3}},
                 {"id": "home-b3", "template": "persons", "data": {"persons": ["ada"]}},
             ])}},
            {"id": "formation", "website": "demo", "parent": "home", "position": 1, "categories": [],
             "localizations": {"fr": fr(title="Formation", slug="formation", summary="Nos formations", blocks=[
                 {"id": "formation-b1", "template": "chapter", "data": {"text": "<p>Diplômes</p>"}},
             ])}},
            {"id": "international", "website": "demo", "parent": "formation", "position": 0, "categories": [],
             "localizations": {"fr": fr(title="International", slug="international", summary="Mobilité", blocks=[])}},
        ],
        "posts": [
            {"id": "p1", "website": "demo", "categories": ["news"], "authors": ["ada"], "image": MEDIA_ID,
             "localizations": {"fr": fr(title="Colloque « Les vacances »", slug="colloque-les-vacances",
                                         summary="Un colloque", published_at="2025-01-07T12:00:00+01:00", blocks=[
                 {"id": "p1-b1", "template": "chapter", "data": {"text": "<p>Le colloque aura lieu.</p>"}},
             ])}},
            {"id": "p2", "website": "demo", "categories": ["news"], "authors": ["alan"], "image": None,
             "localizations": {"fr": fr(title="Rentrée 2025", slug="rentree-2025",
                                         summary="La rentrée", published_at="2025-09-01T12:00:00+02:00", blocks=[
                 {"id": "p2-b1", "template": "chapter", "data": {"text": "<p>Bonne rentrée.</p>"}},
             ])}},
        ],
        "menus": [
            {"id": "primary-fr", "website": "demo", "identifier": "primary", "language": "fr", "items": [
                {"title": "Accueil", "target": {"page": "home"}},
                {"title": "Formation", "target": {"page": "formation"},
                 "children": [{"title": "International", "target": {"page": "international"}}]},
                {"title": "Osuny", "url": "https://www.osuny.org"},
            ]},
        ],
    }


def _date(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _localizations(about_type: str, entry: dict, rows: list) -> None:
    for lang, l10n in sorted(entry.get("localizations", {}).items()):
        title = l10n.get("title", l10n.get("name"))
        text = l10n.get("text", l10n.get("biography"))
        loc = Localization(
            about_type=about_type, about_id=entry["id"], language=lang, title=title, slug=l10n.get("slug", ""),
            summary=l10n.get("summary"), text=text, first_name=l10n.get("first_name"),
            last_name=l10n.get("last_name"), published=l10n.get("published", False),
            published_at=_date(l10n.get("published_at")),
        )
        loc.blocks = [
            Block(id=b["id"], position=position, template=b["template"], data=b.get("data", {}),
                  published=b.get("published", True))
            for position, b in enumerate(l10n.get("blocks", []))
        ]
        rows.append(loc)


def load_content(session: Session, content: dict[str, Any], *, shuffle_seed: int | None = None,
                 connect: bool = True) -> None:
    """Insert `content` (FIXTURES.md format). With `shuffle_seed`, rows of each table
    are inserted in a shuffled order (parents still before children, for foreign keys)."""
    rng = random.Random(shuffle_seed)

    def ordered(entries: list) -> list:
        entries = list(entries)
        if shuffle_seed is not None:
            rng.shuffle(entries)
        return entries

    def flush(rows: list) -> None:
        session.add_all(ordered(rows))
        session.flush()

    flush([Website(id=w["id"], name=w["name"], url=w.get("url", ""), repository=w.get("repository", "."),
                   branch=w.get("branch", "main"), languages=w["languages"], time_zone=w.get("time_zone", "Europe/Paris"))
           for w in content.get("websites", [])])
    flush([Medium(**{k: v for k, v in m.items()}) for m in content.get("media", [])])
    flush([Person(id=p["id"], image_id=p.get("image")) for p in content.get("people", [])])
    flush([Organization(id=o["id"], logo_id=o.get("logo")) for o in content.get("organizations", [])])
    categories = content.get("categories", [])
    flush([Category(id=c["id"], website_id=c["website"], kind=c["kind"], position=c.get("position", 0))
           for c in categories])
    pages = content.get("pages", [])
    flush([Page(id=p["id"], website_id=p["website"], position=p.get("position", 0)) for p in pages])
    posts = content.get("posts", [])
    flush([Post(id=p["id"], website_id=p["website"], image_id=p.get("image")) for p in posts])
    # Parents after every row exists (a shuffled order may put a child first).
    for c in categories:
        session.get(Category, c["id"]).parent_id = c.get("parent")
    for p in pages:
        session.get(Page, p["id"]).parent_id = p.get("parent")
    session.flush()
    links: list = []
    for p in posts:
        links += [PostCategory(post_id=p["id"], category_id=c, position=i) for i, c in enumerate(p.get("categories", []))]
        links += [PostAuthor(post_id=p["id"], person_id=a, position=i) for i, a in enumerate(p.get("authors", []))]
    for p in pages:
        links += [PageCategory(page_id=p["id"], category_id=c, position=i) for i, c in enumerate(p.get("categories", []))]
    flush(links)
    l10ns: list = []
    for about_type, key in (("person", "people"), ("organization", "organizations"), ("category", "categories"),
                            ("page", "pages"), ("post", "posts")):
        for entry in content.get(key, []):
            _localizations(about_type, entry, l10ns)
    flush(l10ns)
    for menu in ordered(content.get("menus", [])):
        session.add(Menu(id=menu["id"], website_id=menu["website"], identifier=menu["identifier"],
                         language=menu["language"], title=menu.get("title")))
        session.flush()
        _menu_items(session, menu["id"], menu.get("items", []), None, ordered)
    session.flush()
    if connect:
        for website in content.get("websites", []):
            connect_everything(session, website["id"], content)
    session.commit()


def _menu_items(session: Session, menu_id: str, items: list, parent_id: int | None, ordered) -> None:
    rows = []
    for position, item in enumerate(items):
        target = item.get("target") or {}
        ((target_type, target_id),) = target.items() if target else ((None, None),)
        rows.append((MenuItem(menu_id=menu_id, parent_id=parent_id, position=position, title=item["title"],
                              url=item.get("url"), target_type=target_type, target_id=target_id), item))
    for row, _ in ordered(rows):
        session.add(row)
        session.flush()
    for row, item in rows:
        _menu_items(session, menu_id, item.get("children", []), row.id, ordered)


def connect_everything(session: Session, website_id: str, content: dict[str, Any]) -> None:
    """Connect every indirect object of `content` to the website, as identification would
    for a site that shows them all (a test that wants an unconnected object deletes its row)."""
    pairs = {("media", m["id"]) for m in content.get("media", [])}
    pairs |= {("person", p["id"]) for p in content.get("people", [])}
    pairs |= {("organization", o["id"]) for o in content.get("organizations", [])}
    for indirect_type, indirect_id in sorted(pairs):
        session.add(Connection(website_id=website_id, indirect_type=indirect_type, indirect_id=indirect_id,
                               source_type="website", source_id=website_id))
    session.flush()


def clear_content(session: Session) -> None:
    """Delete every content row and connection (children first)."""
    for model in (Connection, MenuItem, Menu, Block, Localization, PostAuthor, PostCategory, PageCategory, Post,
                  Page, Category, Person, Organization, Medium, Website):
        if model in (Page, Category):
            session.execute(update(model).values(parent_id=None))
        if model is MenuItem:
            session.execute(update(MenuItem).values(parent_id=None))
        session.execute(delete(model))
    session.commit()


def demo_owners() -> list[FileOwner]:
    """Every owner of the base content (the demo website, in French)."""
    owners = [FileOwner("website", "demo", "fr"), FileOwner("website_config", "demo"),
              FileOwner("menu", "primary-fr"), FileOwner("media", MEDIA_ID)]
    owners += [FileOwner("section", section, "fr") for section in ("posts", "persons", "organizations")]
    owners += [FileOwner("page", p, "fr") for p in ("home", "formation", "international")]
    owners += [FileOwner("post", p, "fr") for p in ("p1", "p2")]
    owners += [FileOwner("person", p, "fr") for p in ("ada", "alan")]
    owners += [FileOwner("organization", "acme", "fr"), FileOwner("category", "news", "fr")]
    return owners


def render_all_owners(session: Session, as_of: datetime = AS_OF) -> dict[str, tuple[str | None, bytes | None]]:
    """owner -> (path, bytes) for every demo owner, from a fresh renderer."""
    renderer = SiteRenderer(session, "demo", as_of=as_of)
    out = {}
    for owner in demo_owners():
        rendered = renderer.render(owner, aliases=["/b/", "/a/"])
        out[str(owner)] = (rendered.path, rendered.content)
    return out

"""Every text field of every owner kind, filled with hostile values, parses back (with
the real parser) to exactly what the database holds: content files and data files."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import Block, Localization, Medium, Menu, MenuItem, Website
from osuny_pipeline.owners import FileOwner
from osuny_pipeline.render import SiteRenderer
from osuny_pipeline_tests.render.builders import AS_OF, MEDIA_ID
from osuny_pipeline_tests.render.test_yamlfmt import HOSTILE

POST = FileOwner("post", "p1", "fr")
PAGE = FileOwner("page", "formation", "fr")
CHILD = FileOwner("page", "international", "fr")
CATEGORY = FileOwner("category", "news", "fr")
PERSON = FileOwner("person", "ada", "fr")
ORG = FileOwner("organization", "acme", "fr")
MEDIA = FileOwner("media", MEDIA_ID)
MENU = FileOwner("menu", "primary-fr")
WEBSITE = FileOwner("website", "demo", "fr")
CONFIG = FileOwner("website_config", "demo")
SECTION = FileOwner("section", "posts", "fr")
OWNERS = (POST, PAGE, CHILD, CATEGORY, PERSON, ORG, MEDIA, MENU, WEBSITE, CONFIG, SECTION)
EXTRA_BLOCKS = ["b-title", "b-image", "b-cta", "b-figures", "b-other"]


def storable(value: str, dialect: str) -> bool:
    """What a database can hold at all: no lone surrogates (not UTF-8), no NUL in PostgreSQL text."""
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        return False
    return not (dialect == "postgresql" and "\x00" in value)


class Objects:
    """The ORM rows the test writes hostile values into."""

    def __init__(self, session: Session):
        self.session = session
        self.website = session.get(Website, "demo")
        self.media = session.get(Medium, MEDIA_ID)
        self.menu = session.get(Menu, "primary-fr")
        items = session.execute(select(MenuItem).where(MenuItem.menu_id == "primary-fr")
                                .order_by(MenuItem.position, MenuItem.id)).scalars().all()
        self.home_item = next(i for i in items if i.target_id == "home")
        self.url_item = next(i for i in items if i.url)
        self.l10n = {(row.about_type, row.about_id): row for row in session.execute(select(Localization)).scalars()}
        self.blocks = {b.id: b for b in session.execute(select(Block)).scalars()}

    def block_data(self, block_id: str, **changes: Any) -> None:
        block = self.blocks[block_id]
        block.data = {**block.data, **changes}  # a new dict: JSON columns track assignment, not mutation


def add_block_of_every_kind(session: Session) -> None:
    post = session.execute(select(Localization).where(Localization.about_id == "p1")).scalar_one()
    templates = ["title", "image", "call_to_action", "key_figures", "gallery_of_the_future"]
    for position, (block_id, template) in enumerate(zip(EXTRA_BLOCKS, templates, strict=True), start=1):
        data: dict[str, Any] = {
            "title": {"title": "t"},
            "image": {"image": MEDIA_ID, "alt": "a", "credit": "c"},
            "call_to_action": {"title": "t", "text": "x", "buttons": [{"title": "b", "url": "u"}]},
            "key_figures": {"figures": [{"number": "1", "unit": "u", "description": "d"}]},
            "gallery_of_the_future": {"caption": "c", "nested": {"k": ["v"]}},
        }[template]
        session.add(Block(id=block_id, localization_id=post.id, position=position, template=template, data=data))
    session.commit()


# Each field: a setter, and where its value must come back (owner, key path in the parsed file).
FIELDS: list[tuple[str, Any, list[tuple[FileOwner, tuple]]]] = [
    ("website name", lambda o, v: setattr(o.website, "name", v), [(WEBSITE, ("about", "label")), (CONFIG, ("fr", "title"))]),
    ("website url", lambda o, v: setattr(o.website, "url", v), [(WEBSITE, ("url",))]),
    ("media name", lambda o, v: setattr(o.media, "name", v), [(MEDIA, ("name",))]),
    ("media url", lambda o, v: setattr(o.media, "url", v), [(MEDIA, ("url",))]),
    ("media type", lambda o, v: setattr(o.media, "content_type", v), [(MEDIA, ("content_type",))]),
    ("menu title", lambda o, v: setattr(o.menu, "title", v), [(MENU, ("title",))]),
    ("menu item title", lambda o, v: setattr(o.home_item, "title", v), [(MENU, ("items", 0, "title"))]),
    ("menu item url", lambda o, v: setattr(o.url_item, "url", v) if v else None, [(MENU, ("items", -1, "target"))]),
    ("post title", lambda o, v: setattr(o.l10n["post", "p1"], "title", v),
     [(POST, ("title",)), (POST, ("search", "title")), (POST, ("breadcrumbs", -1, "title"))]),
    ("post summary", lambda o, v: setattr(o.l10n["post", "p1"], "summary", v),
     [(POST, ("summary",)), (POST, ("search", "summary"))]),
    ("post text", lambda o, v: setattr(o.l10n["post", "p1"], "text", v), [(POST, ("text",))]),
    ("home title", lambda o, v: setattr(o.l10n["page", "home"], "title", v), [(POST, ("breadcrumbs", 0, "title"))]),
    ("page title", lambda o, v: setattr(o.l10n["page", "formation"], "title", v),
     [(PAGE, ("title",)), (PAGE, ("breadcrumb_title",)), (CHILD, ("breadcrumbs", 1, "title"))]),
    ("page summary", lambda o, v: setattr(o.l10n["page", "formation"], "summary", v), [(PAGE, ("summary",))]),
    ("page text", lambda o, v: setattr(o.l10n["page", "formation"], "text", v), [(PAGE, ("text",))]),
    ("category name", lambda o, v: setattr(o.l10n["category", "news"], "title", v),
     [(CATEGORY, ("title",)), (POST, ("taxonomies", 0, "categories", 0, "name"))]),
    ("category summary", lambda o, v: setattr(o.l10n["category", "news"], "summary", v), [(CATEGORY, ("summary",))]),
    ("first name", lambda o, v: setattr(o.l10n["person", "ada"], "first_name", v), [(PERSON, ("first_name",))]),
    ("last name", lambda o, v: setattr(o.l10n["person", "ada"], "last_name", v), [(PERSON, ("last_name",))]),
    ("person summary", lambda o, v: setattr(o.l10n["person", "ada"], "summary", v), [(PERSON, ("summary",))]),
    ("biography", lambda o, v: setattr(o.l10n["person", "ada"], "text", v), [(PERSON, ("biography",))]),
    ("organization name", lambda o, v: setattr(o.l10n["organization", "acme"], "title", v), [(ORG, ("title",))]),
    ("organization summary", lambda o, v: setattr(o.l10n["organization", "acme"], "summary", v), [(ORG, ("summary",))]),
    ("organization text", lambda o, v: setattr(o.l10n["organization", "acme"], "text", v), [(ORG, ("text",))]),
    ("chapter text", lambda o, v: o.block_data("p1-b1", text=v), [(POST, ("contents", 0, "data", "text"))]),
    ("chapter title", lambda o, v: o.block_data("p1-b1", title=v), [(POST, ("contents", 0, "title"))]),
    ("title block", lambda o, v: o.block_data("b-title", title=v), [(POST, ("contents", 1, "title"))]),
    ("image alt", lambda o, v: o.block_data("b-image", alt=v), [(POST, ("contents", 2, "data", "image", "alt"))]),
    ("image credit", lambda o, v: o.block_data("b-image", credit=v), [(POST, ("contents", 2, "data", "credit"))]),
    ("cta text", lambda o, v: o.block_data("b-cta", text=v), [(POST, ("contents", 3, "data", "text"))]),
    ("cta button", lambda o, v: o.block_data("b-cta", buttons=[{"title": v, "url": v}]),
     [(POST, ("contents", 3, "data", "buttons", 0, "title")), (POST, ("contents", 3, "data", "buttons", 0, "url"))]),
    ("figure", lambda o, v: o.block_data("b-figures", figures=[{"number": v, "unit": v, "description": v}]),
     [(POST, ("contents", 4, "data", "figures", 0, key)) for key in ("number", "unit", "description")]),
    ("unmodelled block", lambda o, v: o.block_data("b-other", caption=v, nested={v: [v]}),
     [(POST, ("contents", 5, "data", "caption")), (POST, ("contents", 5, "data", "nested", "$value", 0))]),
]


def dig(document: Any, path: tuple, value: str) -> Any:
    for key in path:
        document = document[value if key == "$value" else key]
    return document


@pytest.fixture
def hostile_site(demo: Session) -> Objects:
    add_block_of_every_kind(demo)
    return Objects(demo)


def test_every_text_field_round_trips_hostile_values(hostile_site: Objects):
    session = hostile_site.session
    dialect = session.get_bind().dialect.name
    values = [v for v in HOSTILE if storable(v, dialect)]
    assert len(values) >= 30
    for round_ in range(len(values)):
        assigned = {}
        for index, (name, setter, _) in enumerate(FIELDS):
            value = values[(index * 7 + round_) % len(values)]
            if name == "media type":
                value = value[:255]  # a VARCHAR(255) column
            setter(hostile_site, value)
            assigned[name] = value
        alias = values[round_]
        session.commit()
        renderer = SiteRenderer(session, "demo", as_of=AS_OF)
        documents = {}
        for owner in OWNERS:
            rendered = renderer.render(owner, aliases=[alias])
            assert rendered.path, owner
            text = rendered.content.decode("utf-8")
            if rendered.path.startswith("content/"):
                assert text.startswith("---\n") and text.endswith("\n---\n")
                text = text[4:-4]
            documents[owner] = yaml.load(text, Loader=yaml.CSafeLoader)
        for name, _, places in FIELDS:
            if name == "menu item url" and not assigned[name]:
                continue  # an empty URL makes a blank item, tested elsewhere
            for owner, path in places:
                got = dig(documents[owner], path, assigned[name])
                assert got == assigned[name], f"{name} in {owner} at {path}: {got!r:.80} != {assigned[name]!r:.80}"
        for owner in (POST, PAGE, CATEGORY, PERSON, ORG, SECTION):
            expected = [] if alias in ("", renderer.permalink(owner)) else [alias]
            assert documents[owner]["aliases"] == expected, owner

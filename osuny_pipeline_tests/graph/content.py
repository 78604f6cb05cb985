"""A small content builder for graph tests: ORM rows with the fewest arguments a test needs.

Independent of the fixture loader on purpose (written in parallel): these tests pin the
graph's rules, not the loader's. Every write goes through the real triggers, so the
change log is the one an editor's saves would produce.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import (
    Block,
    Category,
    ChangeLog,
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
from osuny_pipeline.owners import ObjectRef

NOW = datetime(2025, 10, 1, 12, 0, tzinfo=UTC)
Blocks = Sequence[tuple[str, str, dict[str, Any]]]  # (id, template, data)


def R(type_: str, id_: str) -> ObjectRef:  # noqa: N802 - reads like a constructor in tests
    return ObjectRef(type_, id_)


class Content:
    def __init__(self, session: Session, website: str = "w1", languages: Sequence[str] = ("fr",)):
        self.s = session
        self.website_id = website
        self._post_day = 0
        self.website(website, languages)

    def flush(self) -> Content:
        self.s.flush()
        return self

    def website(self, id_: str, languages: Sequence[str] = ("fr",)) -> None:
        self.s.add(Website(id=id_, name=id_, repository=f"/tmp/{id_}.git", languages=list(languages)))
        self.s.flush()

    def l10n(self, type_: str, id_: str, lang: str = "fr", *, published: bool = True,
             published_at: datetime | None = None, blocks: Blocks = (), **fields: Any) -> Localization:
        loc = Localization(about_type=type_, about_id=id_, language=lang, slug=fields.pop("slug", id_),
                           title=fields.pop("title", id_), published=published, published_at=published_at,
                           **fields)
        self.s.add(loc)
        self.s.flush()
        for position, (block_id, template, data) in enumerate(blocks):
            self.s.add(Block(id=block_id, localization_id=loc.id, position=position, template=template,
                             data=data))
        self.s.flush()
        return loc

    def media(self, id_: str) -> None:
        self.s.add(Medium(id=id_, name=f"{id_}.jpg"))
        self.s.flush()

    def person(self, id_: str, *, image: str | None = None, published: bool = True,
               langs: Sequence[str] = ("fr",)) -> None:
        self.s.add(Person(id=id_, image_id=image))
        self.s.flush()
        for lang in langs:
            self.l10n("person", id_, lang, published=published)

    def organization(self, id_: str, *, logo: str | None = None, published: bool = True) -> None:
        self.s.add(Organization(id=id_, logo_id=logo))
        self.s.flush()
        self.l10n("organization", id_, published=published)

    def category(self, id_: str, *, parent: str | None = None, published: bool = True,
                 website: str | None = None, position: int = 0) -> None:
        self.s.add(Category(id=id_, website_id=website or self.website_id, kind="posts", parent_id=parent,
                            position=position))
        self.s.flush()
        self.l10n("category", id_, published=published)

    def page(self, id_: str, *, parent: str | None = None, position: int = 0, published: bool = True,
             blocks: Blocks = (), categories: Sequence[str] = (), website: str | None = None,
             langs: Sequence[str] = ("fr",)) -> None:
        self.s.add(Page(id=id_, website_id=website or self.website_id, parent_id=parent, position=position))
        self.s.flush()
        for i, category in enumerate(categories):
            self.s.add(PageCategory(page_id=id_, category_id=category, position=i))
        for lang in langs:
            self.l10n("page", id_, lang, published=published,
                      blocks=[(f"{b}-{lang}" if lang != langs[0] else b, t, d) for b, t, d in blocks])

    def post(self, id_: str, *, categories: Sequence[str] = (), authors: Sequence[str] = (),
             image: str | None = None, published: bool = True, published_at: datetime | None = None,
             blocks: Blocks = (), website: str | None = None) -> None:
        if published_at is None:
            self._post_day += 1
            published_at = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=self._post_day)
        self.s.add(Post(id=id_, website_id=website or self.website_id, image_id=image))
        self.s.flush()
        for i, category in enumerate(categories):
            self.s.add(PostCategory(post_id=id_, category_id=category, position=i))
        for i, author in enumerate(authors):
            self.s.add(PostAuthor(post_id=id_, person_id=author, position=i))
        self.l10n("post", id_, published=published, published_at=published_at, blocks=blocks)

    def menu(self, id_: str, targets: Sequence[tuple[str, str]], *, website: str | None = None) -> None:
        self.s.add(Menu(id=id_, website_id=website or self.website_id, identifier=id_, language="fr"))
        self.s.flush()
        for i, (type_, target) in enumerate(targets):
            self.s.add(MenuItem(menu_id=id_, position=i, title=target, target_type=type_, target_id=target))
        self.s.flush()

    # ------------------------------------------------------------------ edits

    def l10n_of(self, type_: str, id_: str, lang: str = "fr") -> Localization:
        return self.s.scalars(select(Localization).where(
            Localization.about_type == type_, Localization.about_id == id_,
            Localization.language == lang)).one()

    def block(self, id_: str) -> Block:
        return self.s.get(Block, id_)

    def last_change_id(self) -> int:
        self.s.flush()
        return self.s.scalar(select(ChangeLog.id).order_by(ChangeLog.id.desc()).limit(1)) or 0

"""Lightweight, lazily built indexes of one website: who exists, who is published, slugs,
parents and dates. Heavy fields (summaries, texts, blocks) are never loaded here: the
renderer reads them per owner, so a large site renders in streaming fashion.

Rows are read as plain tuples (no ORM identity map that would grow with the site) and
every query has an explicit ORDER BY, so nothing depends on the database's row order."""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import (
    Category,
    Connection,
    Localization,
    Medium,
    Organization,
    Page,
    PageCategory,
    Person,
    Post,
    PostCategory,
    Website,
)


@dataclass(frozen=True)
class WebsiteInfo:
    id: str
    name: str
    url: str
    languages: tuple[str, ...]
    time_zone: str

    @property
    def default_language(self) -> str:
        return self.languages[0] if self.languages else ""


@dataclass(frozen=True)
class L10nInfo:
    """The light part of a localization: enough for links, paths and publication."""

    about_id: str
    language: str
    title: str | None
    slug: str
    published: bool
    published_at: datetime | None
    first_name: str | None = None
    last_name: str | None = None


@dataclass(frozen=True)
class TreeNode:
    """A page or a category: its place in its tree."""

    id: str
    parent_id: str | None
    position: int
    kind: str = ""  # categories only


@dataclass(frozen=True)
class IndirectInfo:
    """A person or an organization: its image (people) or logo (organizations)."""

    id: str
    media_id: str | None


def _l10n_columns():
    return (
        Localization.about_id, Localization.language, Localization.title, Localization.slug,
        Localization.published, Localization.published_at, Localization.first_name, Localization.last_name,
    )


class SiteIndex:
    def __init__(self, session: Session, website_id: str):
        self.session = session
        self.website_id = website_id

    # ------------------------------------------------------------------ website

    @functools.cached_property
    def website(self) -> WebsiteInfo | None:
        row = self.session.execute(
            select(Website.id, Website.name, Website.url, Website.languages, Website.time_zone)
            .where(Website.id == self.website_id)
        ).first()
        if row is None:
            return None
        languages = tuple(str(lang) for lang in (row.languages or []))
        return WebsiteInfo(row.id, row.name, row.url or "", languages, row.time_zone or "UTC")

    @functools.cached_property
    def zone(self) -> ZoneInfo:
        assert self.website is not None
        try:
            return ZoneInfo(self.website.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.website.time_zone!r}") from None

    # ------------------------------------------------------------------ localizations

    def _load_l10ns(self, about_type: str, ids_query) -> dict[tuple[str, str], L10nInfo]:
        rows = self.session.execute(
            select(*_l10n_columns())
            .where(Localization.about_type == about_type, Localization.about_id.in_(ids_query))
            .order_by(Localization.about_id, Localization.language)
        )
        return {(r.about_id, r.language): L10nInfo(*r) for r in rows}

    # ------------------------------------------------------------------ pages

    @functools.cached_property
    def pages(self) -> dict[str, TreeNode]:
        rows = self.session.execute(
            select(Page.id, Page.parent_id, Page.position)
            .where(Page.website_id == self.website_id).order_by(Page.position, Page.id)
        )
        return {r.id: TreeNode(r.id, r.parent_id, r.position) for r in rows}

    @functools.cached_property
    def page_l10ns(self) -> dict[tuple[str, str], L10nInfo]:
        return self._load_l10ns("page", select(Page.id).where(Page.website_id == self.website_id))

    @functools.cached_property
    def page_children(self) -> dict[str | None, list[str]]:
        """Children ids per parent, in (position, id) order."""
        children: dict[str | None, list[str]] = defaultdict(list)
        for node in sorted(self.pages.values(), key=lambda n: (n.position, n.id)):
            children[node.parent_id if node.parent_id in self.pages else None].append(node.id)
        return dict(children)

    @functools.cached_property
    def home_id(self) -> str | None:
        """The page without parent (the first one, should there be several)."""
        roots = self.page_children.get(None, [])
        return roots[0] if roots else None

    @functools.cached_property
    def page_categories(self) -> dict[str, list[str]]:
        return self._categories_of(Page, PageCategory, PageCategory.page_id)

    # ------------------------------------------------------------------ categories

    @functools.cached_property
    def categories(self) -> dict[str, TreeNode]:
        rows = self.session.execute(
            select(Category.id, Category.parent_id, Category.position, Category.kind)
            .where(Category.website_id == self.website_id).order_by(Category.position, Category.id)
        )
        return {r.id: TreeNode(r.id, r.parent_id, r.position, r.kind) for r in rows}

    @functools.cached_property
    def category_l10ns(self) -> dict[tuple[str, str], L10nInfo]:
        return self._load_l10ns("category", select(Category.id).where(Category.website_id == self.website_id))

    @functools.cached_property
    def category_children(self) -> dict[str, list[str]]:
        children: dict[str, list[str]] = defaultdict(list)
        for node in sorted(self.categories.values(), key=lambda n: (n.position, n.id)):
            if node.parent_id is not None:
                children[node.parent_id].append(node.id)
        return dict(children)

    # ------------------------------------------------------------------ posts

    @functools.cached_property
    def posts(self) -> dict[str, str | None]:
        """Post id -> image id."""
        rows = self.session.execute(
            select(Post.id, Post.image_id).where(Post.website_id == self.website_id).order_by(Post.id)
        )
        return {r.id: r.image_id for r in rows}

    @functools.cached_property
    def post_l10ns(self) -> dict[tuple[str, str], L10nInfo]:
        return self._load_l10ns("post", select(Post.id).where(Post.website_id == self.website_id))

    @functools.cached_property
    def post_categories(self) -> dict[str, list[str]]:
        return self._categories_of(Post, PostCategory, PostCategory.post_id)

    def _categories_of(self, model, join_model, owner_column) -> dict[str, list[str]]:
        """Owner id -> its category ids in order, for the website's pages or posts."""
        rows = self.session.execute(
            select(owner_column, join_model.category_id)
            .join(model, model.id == owner_column)
            .where(model.website_id == self.website_id)
            .order_by(owner_column, join_model.position, join_model.category_id)
        )
        out: dict[str, list[str]] = defaultdict(list)
        for owner_id, category_id in rows:
            out[owner_id].append(category_id)
        return dict(out)

    @functools.cached_property
    def category_posts(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for post_id in sorted(self.post_categories):
            for category_id in self.post_categories[post_id]:
                out[category_id].append(post_id)
        return dict(out)

    # ------------------------------------------------------------------ indirect objects

    @functools.cached_property
    def connected(self) -> frozenset[tuple[str, str]]:
        """(indirect_type, indirect_id) this website shows (maintained by identification)."""
        rows = self.session.execute(
            select(Connection.indirect_type, Connection.indirect_id)
            .where(Connection.website_id == self.website_id).distinct()
        )
        return frozenset((r.indirect_type, r.indirect_id) for r in rows)

    @functools.cached_property
    def _indirect_cache(self) -> dict[tuple[str, str], IndirectInfo | None]:
        return {}

    @functools.cached_property
    def _indirect_l10n_cache(self) -> dict[tuple[str, str], dict[str, L10nInfo]]:
        return {}

    @functools.cached_property
    def connected_media(self) -> frozenset[str]:
        """Ids of the connected media that exist (ids only: light)."""
        wanted = select(Connection.indirect_id).where(Connection.website_id == self.website_id,
                                                      Connection.indirect_type == "media")
        return frozenset(self.session.scalars(select(Medium.id).where(Medium.id.in_(wanted))))

    def _load_connected_indirects(self) -> None:
        """Every connected person and organization, with their light localizations, in four
        queries instead of two per object."""
        for about_type, model, media in (("person", Person, Person.image_id),
                                         ("organization", Organization, Organization.logo_id)):
            wanted = select(Connection.indirect_id).where(Connection.website_id == self.website_id,
                                                          Connection.indirect_type == about_type)
            found = {}
            for row in self.session.execute(select(model.id, media).where(model.id.in_(wanted)).order_by(model.id)):
                found[row[0]] = IndirectInfo(row[0], row[1])
            l10ns: dict[str, dict[str, L10nInfo]] = defaultdict(dict)
            for r in self.session.execute(
                select(*_l10n_columns())
                .where(Localization.about_type == about_type, Localization.about_id.in_(wanted))
                .order_by(Localization.about_id, Localization.language)
            ):
                l10ns[r.about_id][r.language] = L10nInfo(*r)
            for indirect_type, indirect_id in self.connected:
                if indirect_type == about_type:
                    self._indirect_cache[(about_type, indirect_id)] = found.get(indirect_id)
                    self._indirect_l10n_cache[(about_type, indirect_id)] = l10ns.get(indirect_id, {})

    @functools.cached_property
    def _indirects_loaded(self) -> bool:
        self._load_connected_indirects()
        return True

    def indirect(self, about_type: str, about_id: str) -> IndirectInfo | None:
        """A person or an organization (None when deleted), read once."""
        key = (about_type, about_id)
        if self._indirects_loaded and key not in self._indirect_cache:
            model, media = (Person, Person.image_id) if about_type == "person" else (Organization, Organization.logo_id)
            row = self.session.execute(select(model.id, media).where(model.id == about_id)).first()
            self._indirect_cache[key] = IndirectInfo(row[0], row[1]) if row else None
        return self._indirect_cache[key]

    def indirect_l10n(self, about_type: str, about_id: str, lang: str) -> L10nInfo | None:
        key = (about_type, about_id)
        if self._indirects_loaded and key not in self._indirect_l10n_cache:
            rows = self.session.execute(
                select(*_l10n_columns())
                .where(Localization.about_type == about_type, Localization.about_id == about_id)
                .order_by(Localization.language)
            )
            self._indirect_l10n_cache[key] = {r.language: L10nInfo(*r) for r in rows}
        return self._indirect_l10n_cache[key].get(lang)

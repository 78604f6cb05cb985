"""An in-memory view of the CMS rows the dependency graph needs, loaded in bulk.

Phase 1 asks many small questions (what does this post show? who lists that person?).
Asked one row at a time, a 5,000-object website costs tens of thousands of queries.
`Snapshot` answers them from dictionaries filled by chunked `IN (...)` queries, one per
table and type, and remembers what it has read: every row is read at most once per
snapshot. A snapshot lives for one identification (or one public call) and is then
dropped, so it never serves stale rows across transactions.

Three levels are loaded separately because their costs differ: *rows* (ids, parents,
websites: cheap, loaded a whole website at a time), *localizations* (publication), and
*content* (blocks and link tables, only for objects whose dependencies are asked).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import (
    Block,
    Category,
    Connection,
    GitFile,
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
from osuny_pipeline.owners import FileOwner, ObjectRef

CHUNK = 500  # ids per IN (...): far below SQLite's variable limit, few round trips
LIST_TEMPLATES = ("posts", "pages", "persons", "organizations")

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def chunks(items: Sequence[K], size: int = CHUNK) -> Iterator[Sequence[K]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


@dataclass(frozen=True)
class ObjectRow:
    """The columns of an object the graph uses. `website_id` is None for indirect objects."""

    ref: ObjectRef
    website_id: str | None = None
    parent_id: str | None = None  # page, category
    position: int = 0
    media_id: str | None = None  # a post's or person's image, an organization's logo


@dataclass(frozen=True)
class L10n:
    id: int
    language: str
    published: bool
    published_at: datetime | None


@dataclass(frozen=True)
class BlockRow:
    id: str
    owner: ObjectRef  # the object of the block's localization
    language: str
    template: str
    data: dict[str, Any]
    published: bool
    l10n_published: bool
    l10n_published_at: datetime | None
    position: int = 0


@dataclass
class WebsiteInfo:
    id: str
    languages: list[str]


@dataclass
class Snapshot:
    session: Session
    now: datetime
    rows: dict[ObjectRef, ObjectRow | None] = field(default_factory=dict)
    l10ns: dict[ObjectRef, list[L10n]] = field(default_factory=dict)
    blocks_of: dict[ObjectRef, list[BlockRow]] = field(default_factory=dict)
    blocks: dict[str, BlockRow | None] = field(default_factory=dict)
    websites: dict[str, WebsiteInfo | None] = field(default_factory=dict)
    # forward link tables, keyed by the owning object's id
    post_categories: dict[str, list[str]] = field(default_factory=dict)
    post_authors: dict[str, list[str]] = field(default_factory=dict)
    page_categories: dict[str, list[str]] = field(default_factory=dict)
    menu_targets: dict[str, list[ObjectRef]] = field(default_factory=dict)
    dependencies: dict[ObjectRef, list[ObjectRef]] = field(default_factory=dict)  # memo of the rules
    published: dict[ObjectRef, bool] = field(default_factory=dict)  # memo of the publication rule
    # reverse lookups, filled on demand
    _website_members: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    _list_blocks: dict[str, list[BlockRow]] = field(default_factory=dict)
    _menus_pointing: dict[ObjectRef, list[str]] = field(default_factory=dict)
    _category_posts: dict[str, list[str]] = field(default_factory=dict)
    _category_pages: dict[str, list[str]] = field(default_factory=dict)
    _authored_posts: dict[str, list[str]] = field(default_factory=dict)
    _media_users: dict[str, list[ObjectRef]] = field(default_factory=dict)
    _connected_sources: dict[ObjectRef, list[tuple[str, ObjectRef]]] = field(default_factory=dict)
    _site_connections: dict[str, set[tuple[ObjectRef, ObjectRef]]] = field(default_factory=dict)
    _site_git_files: dict[str, dict[ObjectRef, set[FileOwner]]] = field(default_factory=dict)

    # ------------------------------------------------------------------ generic batching

    def _fill(self, cache: dict[K, V], keys: Iterable[K], fetch: Callable[[Sequence[K]], dict[K, V]],
              default: Callable[[], V]) -> None:
        """Fetch the keys not yet in `cache`, a chunk per query; unknown keys get `default()`."""
        missing = sorted({k for k in keys if k not in cache})  # type: ignore[type-var]
        for chunk in chunks(missing):
            found = fetch(chunk)
            for key in chunk:
                cache[key] = found.get(key, default())

    # ------------------------------------------------------------------ websites

    def website(self, website_id: str) -> WebsiteInfo | None:
        if website_id not in self.websites:
            row = self.session.execute(
                select(Website.id, Website.languages).where(Website.id == website_id)).first()
            self.websites[website_id] = WebsiteInfo(row.id, list(row.languages or [])) if row else None
        return self.websites[website_id]

    def website_members(self, website_id: str, type_: str) -> list[str]:
        """Ids of the website's pages, posts, categories or menus (their rows get loaded too)."""
        key = (website_id, type_)
        if key not in self._website_members:
            self.load_website_rows(website_id)
        return self._website_members[key]

    def load_website_rows(self, website_id: str) -> None:
        """Every direct object row of a website: four queries whatever its size."""
        if (website_id, "page") in self._website_members:
            return
        queries = {
            "page": select(Page.id, Page.website_id, Page.parent_id, Page.position)
            .where(Page.website_id == website_id),
            "category": select(Category.id, Category.website_id, Category.parent_id, Category.position)
            .where(Category.website_id == website_id),
            "post": select(Post.id, Post.website_id, Post.image_id).where(Post.website_id == website_id),
            "menu": select(Menu.id, Menu.website_id).where(Menu.website_id == website_id),
        }
        for type_, query in queries.items():
            ids = []
            for row in self.session.execute(query):
                ref = ObjectRef(type_, row.id)
                self.rows[ref] = _object_row(type_, row)
                ids.append(row.id)
            self._website_members[(website_id, type_)] = sorted(ids)

    # ------------------------------------------------------------------ object rows

    def row(self, ref: ObjectRef) -> ObjectRow | None:
        if ref not in self.rows:
            self.load_rows([ref])
        return self.rows[ref]

    def load_rows(self, refs: Iterable[ObjectRef]) -> None:
        by_type: dict[str, list[ObjectRef]] = defaultdict(list)
        for ref in refs:
            if ref not in self.rows and ref.type != "block":
                by_type[ref.type].append(ref)
        for type_, pending in by_type.items():
            query = _ROW_QUERIES.get(type_)
            if query is None:  # an unknown type names nothing
                for ref in pending:
                    self.rows[ref] = None
                continue
            model = _MODELS[type_]

            def fetch(ids: Sequence[ObjectRef], type_: str = type_, query=query, model=model):
                plain = [r.id for r in ids]
                return {ObjectRef(type_, r.id): _object_row(type_, r)
                        for r in self.session.execute(query.where(model.id.in_(plain)))}

            self._fill(self.rows, pending, fetch, lambda: None)

    # ------------------------------------------------------------------ localizations

    def localizations(self, ref: ObjectRef) -> list[L10n]:
        if ref not in self.l10ns:
            self.load_l10ns([ref])
        return self.l10ns[ref]

    def load_l10ns(self, refs: Iterable[ObjectRef]) -> None:
        by_type: dict[str, list[ObjectRef]] = defaultdict(list)
        for ref in refs:
            if ref not in self.l10ns:
                by_type[ref.type].append(ref)
        for type_, pending in by_type.items():
            def fetch(ids: Sequence[ObjectRef], type_: str = type_) -> dict[ObjectRef, list[L10n]]:
                found: dict[ObjectRef, list[L10n]] = defaultdict(list)
                query = (select(Localization.id, Localization.about_id, Localization.language,
                                Localization.published, Localization.published_at)
                         .where(Localization.about_type == type_,
                                Localization.about_id.in_([r.id for r in ids]))
                         .order_by(Localization.about_id, Localization.language))
                for row in self.session.execute(query):
                    found[ObjectRef(type_, row.about_id)].append(
                        L10n(row.id, row.language, bool(row.published), row.published_at))
                return found

            self._fill(self.l10ns, pending, fetch, list)

    # ------------------------------------------------------------------ content: blocks and links

    def object_blocks(self, ref: ObjectRef) -> list[BlockRow]:
        if ref not in self.blocks_of:
            self.load_content([ref])
        return self.blocks_of[ref]

    def block(self, block_id: str) -> BlockRow | None:
        if block_id not in self.blocks:
            self.load_blocks([block_id])
        return self.blocks[block_id]

    def load_blocks(self, block_ids: Iterable[str]) -> None:
        def fetch(ids: Sequence[str]) -> dict[str, BlockRow | None]:
            return {b.id: b for b in self._block_rows(Block.id.in_(list(ids)))}

        self._fill(self.blocks, block_ids, fetch, lambda: None)

    def _block_rows(self, *where) -> list[BlockRow]:
        query = (select(Block.id, Block.position, Block.template, Block.data, Block.published,
                        Localization.about_type, Localization.about_id, Localization.language,
                        Localization.published.label("l10n_published"),
                        Localization.published_at.label("l10n_published_at"))
                 .join(Localization, Localization.id == Block.localization_id)
                 .where(*where)
                 .order_by(Localization.about_type, Localization.about_id, Localization.language,
                           Block.position, Block.id))
        out = []
        for row in self.session.execute(query):
            block = BlockRow(
                id=row.id, owner=ObjectRef(row.about_type, row.about_id), language=row.language,
                template=row.template, data=dict(row.data or {}), published=bool(row.published),
                l10n_published=bool(row.l10n_published), l10n_published_at=row.l10n_published_at,
                position=row.position,
            )
            self.blocks[block.id] = block
            out.append(block)
        return out

    def load_content(self, refs: Iterable[ObjectRef]) -> None:
        """Blocks of the objects' localizations, and their link tables (categories, authors,
        menu items)."""
        by_type: dict[str, list[ObjectRef]] = defaultdict(list)
        for ref in refs:
            if ref not in self.blocks_of:
                by_type[ref.type].append(ref)
        for type_, pending in by_type.items():
            def fetch(ids: Sequence[ObjectRef], type_: str = type_) -> dict[ObjectRef, list[BlockRow]]:
                plain = [r.id for r in ids]
                self._load_links(type_, plain)
                found: dict[ObjectRef, list[BlockRow]] = defaultdict(list)
                for block in self._block_rows(Localization.about_type == type_,
                                              Localization.about_id.in_(plain)):
                    found[block.owner].append(block)
                return found

            self._fill(self.blocks_of, pending, fetch, list)

    def _load_links(self, type_: str, ids: list[str]) -> None:
        def grouped(query, key, value) -> dict[str, list[Any]]:
            out: dict[str, list[Any]] = {i: [] for i in ids}
            for row in self.session.execute(query):
                out[key(row)].append(value(row))
            return out

        if type_ == "post":
            self.post_categories.update(grouped(
                select(PostCategory.post_id, PostCategory.category_id).where(PostCategory.post_id.in_(ids))
                .order_by(PostCategory.post_id, PostCategory.position, PostCategory.category_id),
                lambda r: r.post_id, lambda r: r.category_id))
            self.post_authors.update(grouped(
                select(PostAuthor.post_id, PostAuthor.person_id).where(PostAuthor.post_id.in_(ids))
                .order_by(PostAuthor.post_id, PostAuthor.position, PostAuthor.person_id),
                lambda r: r.post_id, lambda r: r.person_id))
        elif type_ == "page":
            self.page_categories.update(grouped(
                select(PageCategory.page_id, PageCategory.category_id).where(PageCategory.page_id.in_(ids))
                .order_by(PageCategory.page_id, PageCategory.position, PageCategory.category_id),
                lambda r: r.page_id, lambda r: r.category_id))
        elif type_ == "menu":
            self.menu_targets.update(grouped(
                select(MenuItem.menu_id, MenuItem.target_type, MenuItem.target_id)
                .where(MenuItem.menu_id.in_(ids), MenuItem.target_type.is_not(None),
                       MenuItem.target_id.is_not(None))
                .order_by(MenuItem.menu_id, MenuItem.position, MenuItem.id),
                lambda r: r.menu_id, lambda r: ObjectRef(r.target_type, r.target_id)))

    # ------------------------------------------------------------------ reverse lookups

    def list_blocks(self, template: str) -> list[BlockRow]:
        """Every block of a list template, all websites: few, and filtered in memory."""
        if template not in self._list_blocks:
            self._list_blocks[template] = self._block_rows(Block.template == template)
        return self._list_blocks[template]

    def menus_pointing_to(self, refs: Iterable[ObjectRef]) -> dict[ObjectRef, list[str]]:
        refs = list(refs)
        by_type: dict[str, list[ObjectRef]] = defaultdict(list)
        for ref in refs:
            by_type[ref.type].append(ref)
        for type_, pending in by_type.items():
            def fetch(ids: Sequence[ObjectRef], type_: str = type_) -> dict[ObjectRef, list[str]]:
                found: dict[ObjectRef, list[str]] = defaultdict(list)
                for row in self.session.execute(
                    select(MenuItem.menu_id, MenuItem.target_id).distinct()
                    .where(MenuItem.target_type == type_, MenuItem.target_id.in_([r.id for r in ids]))
                    .order_by(MenuItem.menu_id)
                ):
                    found[ObjectRef(type_, row.target_id)].append(row.menu_id)
                return found

            self._fill(self._menus_pointing, pending, fetch, list)
        return {ref: self._menus_pointing[ref] for ref in refs}

    def _reverse(self, cache: dict[str, list[Any]], ids: Iterable[str], query_for,
                 key, value) -> None:
        def fetch(chunk: Sequence[str]) -> dict[str, list[Any]]:
            found: dict[str, list[Any]] = defaultdict(list)
            for row in self.session.execute(query_for(list(chunk))):
                found[key(row)].append(value(row))
            return found

        self._fill(cache, ids, fetch, list)

    def posts_in_categories(self, category_ids: Iterable[str]) -> dict[str, list[str]]:
        ids = list(category_ids)
        self._reverse(self._category_posts, ids,
                      lambda c: select(PostCategory.category_id, PostCategory.post_id)
                      .where(PostCategory.category_id.in_(c)).order_by(PostCategory.post_id),
                      lambda r: r.category_id, lambda r: r.post_id)
        return {i: self._category_posts[i] for i in ids}

    def pages_in_categories(self, category_ids: Iterable[str]) -> dict[str, list[str]]:
        ids = list(category_ids)
        self._reverse(self._category_pages, ids,
                      lambda c: select(PageCategory.category_id, PageCategory.page_id)
                      .where(PageCategory.category_id.in_(c)).order_by(PageCategory.page_id),
                      lambda r: r.category_id, lambda r: r.page_id)
        return {i: self._category_pages[i] for i in ids}

    def posts_authored_by(self, person_ids: Iterable[str]) -> dict[str, list[str]]:
        ids = list(person_ids)
        self._reverse(self._authored_posts, ids,
                      lambda c: select(PostAuthor.person_id, PostAuthor.post_id)
                      .where(PostAuthor.person_id.in_(c)).order_by(PostAuthor.post_id),
                      lambda r: r.person_id, lambda r: r.post_id)
        return {i: self._authored_posts[i] for i in ids}

    def media_users(self, media_ids: Iterable[str]) -> dict[str, list[ObjectRef]]:
        """People, organizations and posts whose image (logo) is the media."""
        ids = sorted(set(media_ids) - self._media_users.keys())
        for chunk in chunks(ids):
            found: dict[str, list[ObjectRef]] = defaultdict(list)
            for type_, model, column in (("person", Person, Person.image_id),
                                         ("organization", Organization, Organization.logo_id),
                                         ("post", Post, Post.image_id)):
                for row in self.session.execute(select(model.id, column.label("media_id"))
                                                .where(column.in_(list(chunk)))):
                    found[row.media_id].append(ObjectRef(type_, row.id))
            for media_id in chunk:
                self._media_users[media_id] = sorted(found.get(media_id, []))
        return {i: self._media_users[i] for i in media_ids}

    def connected_sources(self, refs: Iterable[ObjectRef]) -> dict[ObjectRef, list[tuple[str, ObjectRef]]]:
        """(website, direct source) of every connection of these indirect objects, all websites."""
        refs = list(refs)
        by_type: dict[str, list[ObjectRef]] = defaultdict(list)
        for ref in refs:
            by_type[ref.type].append(ref)
        for type_, pending in by_type.items():
            def fetch(ids: Sequence[ObjectRef], type_: str = type_):
                found: dict[ObjectRef, list[tuple[str, ObjectRef]]] = defaultdict(list)
                for row in self.session.execute(
                    select(Connection.indirect_id, Connection.website_id, Connection.source_type,
                           Connection.source_id)
                    .where(Connection.indirect_type == type_, Connection.indirect_id.in_([r.id for r in ids]))
                    .order_by(Connection.website_id, Connection.source_type, Connection.source_id)
                ):
                    found[ObjectRef(type_, row.indirect_id)].append(
                        (row.website_id, ObjectRef(row.source_type, row.source_id)))
                return found

            self._fill(self._connected_sources, pending, fetch, list)
        return {ref: self._connected_sources[ref] for ref in refs}

    # ------------------------------------------------------------------ per-website pipeline state

    def site_connections(self, website_id: str) -> set[tuple[ObjectRef, ObjectRef]]:
        """(indirect, source) pairs of the website, kept current by connection refreshes."""
        if website_id not in self._site_connections:
            self._site_connections[website_id] = {
                (ObjectRef(r.indirect_type, r.indirect_id), ObjectRef(r.source_type, r.source_id))
                for r in self.session.execute(
                    select(Connection.indirect_type, Connection.indirect_id, Connection.source_type,
                           Connection.source_id).where(Connection.website_id == website_id))
            }
        return self._site_connections[website_id]

    def site_git_files(self, website_id: str) -> dict[ObjectRef, set[FileOwner]]:
        """The website's git_file owners, by (about_type, about_id): one query for the site."""
        if website_id not in self._site_git_files:
            index: dict[ObjectRef, set[FileOwner]] = defaultdict(set)
            for row in self.session.execute(
                select(GitFile.about_type, GitFile.about_id, GitFile.language)
                .where(GitFile.website_id == website_id)
            ):
                index[ObjectRef(row.about_type, row.about_id)].add(
                    FileOwner(row.about_type, row.about_id, row.language))
            self._site_git_files[website_id] = dict(index)
        return self._site_git_files[website_id]


def _object_row(type_: str, row: Any) -> ObjectRow:
    ref = ObjectRef(type_, row.id)
    if type_ in ("page", "category"):
        return ObjectRow(ref, row.website_id, row.parent_id, row.position or 0)
    if type_ == "post":
        return ObjectRow(ref, row.website_id, media_id=row.image_id)
    if type_ == "menu":
        return ObjectRow(ref, row.website_id)
    if type_ == "website":
        return ObjectRow(ref, row.id)
    if type_ in ("person", "organization"):
        return ObjectRow(ref, None, media_id=row.media_id)
    return ObjectRow(ref)


_MODELS: dict[str, Any] = {
    "website": Website, "page": Page, "post": Post, "category": Category, "menu": Menu,
    "person": Person, "organization": Organization, "media": Medium,
}
_ROW_QUERIES: dict[str, Any] = {
    "website": select(Website.id),
    "page": select(Page.id, Page.website_id, Page.parent_id, Page.position),
    "category": select(Category.id, Category.website_id, Category.parent_id, Category.position),
    "post": select(Post.id, Post.website_id, Post.image_id),
    "menu": select(Menu.id, Menu.website_id),
    "person": select(Person.id, Person.image_id.label("media_id")),
    "organization": select(Organization.id, Organization.logo_id.label("media_id")),
    "media": select(Medium.id),
}

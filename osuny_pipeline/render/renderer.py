"""Rendering: one file owner -> (path, bytes, url, the objects it read).

A pure function of the database state, the templates and `as_of`: fixed key order, no
clock, no process locale or time zone (dates go to the website's zone through zoneinfo),
explicit ORDER BY everywhere, no unsorted set iteration. The lead's generation code
(render/generate.py) compares the bytes with what is stored and marks files
desynchronized; it also stores `reads`, the exact references used to re-render a file
when any object it showed changes.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import jinja2
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import Block, Localization, Medium, Menu, MenuItem, PostAuthor
from osuny_pipeline.errors import OsunyError
from osuny_pipeline.owners import SECTIONS, FileOwner, ObjectRef
from osuny_pipeline.render import paths
from osuny_pipeline.render.site_index import L10nInfo, SiteIndex
from osuny_pipeline.render.yamlfmt import yaml_scalar

# Locations kept for reuse (paths, URLs and the reads that decided them).
LOCATION_CACHE_SIZE = 4096


class RenderError(OsunyError):
    """An owner cannot be rendered; the message names the object and the field or reason."""


@dataclass(frozen=True)
class Rendered:
    path: str | None  # None: this owner must have no file
    content: bytes | None  # None iff path is None
    url: str | None  # the page's permalink; None for data files
    reads: frozenset[ObjectRef]  # every object this render used


# --------------------------------------------------------------------------- templates

_TEMPLATE_PACKAGE = "osuny_pipeline.render"
_CODE_FILES = ("renderer.py", "paths.py", "site_index.py", "yamlfmt.py")


def _template_files() -> list[tuple[str, bytes]]:
    folder = resources.files(_TEMPLATE_PACKAGE).joinpath("templates")
    return sorted((f.name, f.read_bytes()) for f in folder.iterdir() if f.name.endswith(".j2"))


def _templates_version() -> str:
    digest = hashlib.sha256()
    package = resources.files(_TEMPLATE_PACKAGE)
    for name, data in _template_files():
        digest.update(b"template\0" + name.encode() + b"\0" + data)
    for name in _CODE_FILES:
        digest.update(b"code\0" + name.encode() + b"\0" + package.joinpath(name).read_bytes())
    return digest.hexdigest()[:12]


TEMPLATES_VERSION: str = _templates_version()


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.DictLoader({name: data.decode("utf-8") for name, data in _template_files()}),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["yaml"] = yaml_scalar
    return env


def squeeze_blank_lines(text: str) -> str:
    """Drop empty lines left by template logic. Safe because `| yaml` never emits a line
    break inside a scalar: a blank line can carry no value."""
    return "".join(line + "\n" for line in text.split("\n") if line.strip())


@cache
def _template(name: str) -> jinja2.Template:
    """Compiled once: Jinja's own cache would check the loader's source on every call."""
    return environment().get_template(name)


def render_template(name: str, context: dict[str, Any]) -> str:
    # `d` is the whole context, for macros that take it as one argument.
    return squeeze_blank_lines(_template(name).render(context, d=context))


def front_matter_file(yaml_text: str) -> bytes:
    """Osuny's content files: YAML front matter only."""
    return ("---\n" + yaml_text + "---\n").encode("utf-8")


# --------------------------------------------------------------------------- vocabulary

SEARCH_KINDS = {
    "page": "Communication::Website::Page::Localization",
    "post": "Communication::Website::Post::Localization",
    "person": "University::Person::Localization",
    "organization": "University::Organization::Localization",
    "section": "Communication::Website::Page::Localization",
}
CATEGORY_SEARCH_KINDS = {
    "posts": "Communication::Website::Post::Category::Localization",
    "pages": "Communication::Website::Page::Category::Localization",
    "persons": "University::Person::Category::Localization",
    "organizations": "University::Organization::Category::Localization",
}
TRANSLATION_KEY_PREFIXES = {
    "page": "communication-website-page",
    "post": "communication-website-post",
    "person": "university-person",
    "organization": "university-organization",
    "section": "communication-website-section",
}
CATEGORY_TRANSLATION_KEY_PREFIXES = {
    "posts": "communication-website-post-category",
    "pages": "communication-website-page-category",
    "persons": "university-person-category",
    "organizations": "university-organization-category",
}
CATEGORIES_LABELS = {"fr": "Catégories", "en": "Categories"}
LANGUAGE_LABELS = {
    "fr": "Français", "en": "English", "es": "Español", "de": "Deutsch", "it": "Italiano",
    "pt": "Português", "nl": "Nederlands", "ca": "Català", "eu": "Euskara", "br": "Brezhoneg",
    "oc": "Occitan", "ar": "العربية", "zh": "中文",
}
HUGO_TAXONOMIES = (
    ("author", "authors"),
    ("organizations_category", "organizations_categories"),
    ("pages_category", "pages_categories"),
    ("persons_category", "persons_categories"),
    ("posts_category", "posts_categories"),
)
LIST_TEMPLATES = ("posts", "pages", "persons", "organizations")
DEFAULT_POSTS_QUANTITY = 3
WORDS_PER_MINUTE = 200
SCALAR_TYPES = (str, int, float, bool, type(None))

_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"\s+")


def plain_text(html: str | None) -> str:
    """HTML -> one line of text, for search bodies and reading time."""
    if not html:
        return ""
    return _SPACES.sub(" ", _TAG.sub(" ", html)).strip()


def reading_time(texts: Iterable[str], lang: str) -> dict[str, Any]:
    words = sum(len(t.split()) for t in texts)
    seconds = words * 60 // WORDS_PER_MINUTE
    minutes = max(1, round(seconds / 60))
    if lang == "fr":
        text = "moins d'une minute" if seconds < 60 else f"{minutes} minute{'s' if minutes > 1 else ''}"
    else:
        text = "less than a minute" if seconds < 60 else f"{minutes} minute{'s' if minutes > 1 else ''}"
    return {"seconds": seconds, "text": text}


# --------------------------------------------------------------------------- locations


@dataclass(frozen=True)
class Location:
    """Where an owner's file lives and the URL it answers at."""

    path: str
    url: str | None = None
    hugo_path: str | None = None  # meta.hugo.path
    slug: str = ""
    title: str | None = None  # the name links show
    date: datetime | None = None  # published_at in the website's zone


@dataclass
class _Located:
    location: Location | None
    reads: frozenset[ObjectRef]


@dataclass
class _Reads:
    refs: set[ObjectRef] = field(default_factory=set)

    def add(self, type_: str, id_: str) -> None:
        self.refs.add(ObjectRef(type_, id_))

    def update(self, refs: Iterable[ObjectRef]) -> None:
        self.refs.update(refs)


def person_name(l10n: L10nInfo) -> str:
    name = " ".join(part for part in (l10n.first_name, l10n.last_name) if part)
    return name or (l10n.title or "")


class SiteRenderer:
    """Renders the files of one website, as of one instant.

    Indexes (slugs, parents, publication) are built lazily once; heavy fields are read per
    owner. Not thread-safe: one renderer per worker."""

    def __init__(self, session: Session, website_id: str, *, as_of: datetime):
        if as_of.tzinfo is None:
            raise RenderError(f"as_of {as_of!r} is naive: give a time zone")
        self.session = session
        self.website_id = website_id
        self.as_of = as_of
        self.index = SiteIndex(session, website_id)
        self._locations: OrderedDict[FileOwner, _Located] = OrderedDict()
        self._prefetched = _Prefetched()
        self._newest_first: dict[str, list[str]] = {}

    def prefetch(self, owners: Iterable[FileOwner]) -> None:
        """Read the heavy fields these owners need (localizations, blocks, authors, media)
        in a few IN queries, replacing the previous batch: generation calls it per chunk,
        so memory holds one chunk's heavy fields, never the whole site's."""
        self._prefetched = _Prefetched.load(self.session, list(owners))

    # ------------------------------------------------------------------ public API

    def permalink(self, owner: FileOwner) -> str | None:
        """The URL this owner has now (None when it has no file, or is a data file)."""
        located = self._located(owner)
        return located.location.url if located.location else None

    def render(self, owner: FileOwner, *, aliases: Sequence[str] = ()) -> Rendered:
        reads = _Reads()
        located = self._located(owner)
        reads.update(located.reads)
        location = located.location
        if location is None:
            return Rendered(None, None, None, frozenset(reads.refs))
        try:
            paths.assert_safe_path(location.path)
            prefix = self._prefix(owner.language) if owner.language in self._website.languages else ""
            cleaned = _hugo_aliases(_clean_aliases(owner, aliases, location.url), prefix)
            content = self._render_content(owner, location, cleaned, reads)
        except RenderError:
            raise
        except (paths.UnsafePathError, TypeError, ValueError, jinja2.TemplateError) as exc:
            raise RenderError(f"{owner} of website {self.website_id}: {exc}") from None
        return Rendered(location.path, content, location.url, frozenset(reads.refs))

    # ------------------------------------------------------------------ dispatch

    def _render_content(self, owner: FileOwner, location: Location, aliases: list[str], reads: _Reads) -> bytes:
        kind = owner.about_type
        if kind == "media":
            return render_template("media.yml.j2", self._media_context(owner)).encode("utf-8")
        if kind == "menu":
            return render_template("menu.yml.j2", self._menu_context(owner, reads)).encode("utf-8")
        if kind == "website":
            return render_template("website.yml.j2", self._website_context(owner)).encode("utf-8")
        if kind == "website_config":
            return render_template("languages.yaml.j2", self._languages_context()).encode("utf-8")
        if kind == "section":
            context = self._section_context(owner, location, aliases, reads)
            return front_matter_file(render_template("section.html.j2", context))
        context = self._localized_context(owner, location, aliases, reads)
        return front_matter_file(render_template(f"{kind}.html.j2", context))

    def _located(self, owner: FileOwner) -> _Located:
        """Locations are cached with the reads that decided them: lists and menus ask for
        the same links again and again."""
        located = self._locations.get(owner)
        if located is None:
            reads = _Reads()
            location = self._locate(owner, reads)
            located = self._locations[owner] = _Located(location, frozenset(reads.refs))
            # Bounded, least recently used out: the links lists and menus ask for again
            # stay, while a 50k-file site's own locations do not pile up in memory.
            if len(self._locations) > LOCATION_CACHE_SIZE:
                self._locations.popitem(last=False)
        else:
            self._locations.move_to_end(owner)
        return located

    def _locate(self, owner: FileOwner, reads: _Reads) -> Location | None:
        reads.add("website", self.website_id)
        website = self.index.website
        if website is None:
            return None
        kind, id_, lang = owner
        if kind == "website_config":
            return Location(paths.LANGUAGES_CONFIG_PATH) if id_ == self.website_id else None
        if kind == "media":
            return self._locate_media(id_, reads)
        if kind == "menu":
            return self._locate_menu(id_, reads)
        if kind not in ("page", "post", "category", "person", "organization", "section", "website"):
            raise RenderError(f"{owner}: unknown owner kind {kind!r}")
        if lang not in website.languages:
            return None
        self._check_language(lang)
        if kind == "website":
            return Location(paths.website_data_file(lang)) if id_ == self.website_id else None
        if kind == "section":
            return self._locate_section(id_, lang)
        if kind == "page":
            return self._locate_page(id_, lang, reads)
        if kind == "post":
            return self._locate_post(id_, lang, reads, strict=True)
        if kind == "category":
            return self._locate_category(id_, lang, reads)
        return self._locate_indirect(kind, id_, lang, reads)

    # ------------------------------------------------------------------ helpers

    @property
    def _website(self):
        website = self.index.website
        assert website is not None
        return website

    def _check_language(self, lang: str) -> None:
        if not paths.is_valid_language(lang):
            raise RenderError(f"website {self.website_id}: language code {lang!r} is not valid")

    def _prefix(self, lang: str) -> str:
        return paths.language_prefix(lang, self._website.default_language)

    def _local(self, moment: datetime) -> datetime:
        try:
            zone = self.index.zone
        except ValueError as exc:
            raise RenderError(f"website {self.website_id}: {exc}") from None
        return moment.astimezone(zone).replace(microsecond=0)

    def _is_published(self, l10n: L10nInfo | None) -> bool:
        return bool(l10n and l10n.published and (l10n.published_at is None or l10n.published_at <= self.as_of))

    def _slug(self, kind: str, id_: str, lang: str, *candidates: str | None) -> str:
        slug = paths.first_slug(*candidates, id_)
        if not slug:
            raise RenderError(f"{kind}:{id_} ({lang}): no usable slug (slug, title and id are all empty once parameterized)")
        return slug

    def _chain(self, kind: str, nodes: dict, id_: str) -> list[str]:
        """Ancestors then the object itself, root first. A parent loop is an error, not a hang."""
        chain: list[str] = []
        seen: set[str] = set()
        current: str | None = id_
        while current is not None and current in nodes:
            if current in seen:
                raise RenderError(f"{kind}:{id_}: its parents form a cycle")
            seen.add(current)
            chain.append(current)
            current = nodes[current].parent_id
        chain.reverse()
        return chain

    # ------------------------------------------------------------------ locate per kind

    def _locate_section(self, section: str, lang: str) -> Location | None:
        if section not in SECTIONS:
            raise RenderError(f"section:{section} ({lang}): unknown section, expected one of {', '.join(SECTIONS)}")
        path, hugo_path = paths.section_file(lang, section)
        slug = paths.section_slug(section, lang)
        return Location(path, paths.url_from_segments(self._prefix(lang), [slug]), hugo_path, slug,
                        paths.section_title(section, lang))

    def _locate_page(self, page_id: str, lang: str, reads: _Reads) -> Location | None:
        reads.add("page", page_id)
        if page_id not in self.index.pages:
            return None
        chain = self._chain("page", self.index.pages, page_id)
        l10ns = []
        for ancestor in chain:
            reads.add("page", ancestor)
            l10n = self.index.page_l10ns.get((ancestor, lang))
            if not self._is_published(l10n):
                return None
            l10ns.append(l10n)
        own = l10ns[-1]
        date = self._local(own.published_at) if own.published_at else None
        if page_id == self.index.home_id:
            path, hugo_path = paths.home_file(lang)
            return Location(path, self._prefix(lang) + "/", hugo_path, "", own.title, date)
        home = self.index.home_id
        slugs = [self._slug("page", p, lang, loc.slug, loc.title) for p, loc in zip(chain, l10ns, strict=True) if p != home]
        path, hugo_path = paths.page_file(lang, slugs)
        return Location(path, paths.url_from_segments(self._prefix(lang), slugs), hugo_path, slugs[-1], own.title, date)

    def _post_date(self, post_id: str, lang: str, l10n: L10nInfo | None, strict: bool) -> datetime | None:
        """published_at when the post is published as of now, else None."""
        if not (l10n and l10n.published):
            return None
        if l10n.published_at is None:
            if strict:
                raise RenderError(f"post:{post_id} ({lang}): published without published_at")
            return None
        return l10n.published_at if l10n.published_at <= self.as_of else None

    def _locate_post(self, post_id: str, lang: str, reads: _Reads, *, strict: bool = False) -> Location | None:
        reads.add("post", post_id)
        if post_id not in self.index.posts:
            return None
        l10n = self.index.post_l10ns.get((post_id, lang))
        published_at = self._post_date(post_id, lang, l10n, strict)
        if published_at is None or l10n is None:
            return None
        local = self._local(published_at)
        slug = self._slug("post", post_id, lang, l10n.slug, l10n.title)
        path, hugo_path = paths.post_file(lang, local, slug)
        url = paths.url_from_segments(
            self._prefix(lang), [paths.section_slug("posts", lang), paths.post_file_stem(local, slug)]
        )
        return Location(path, url, hugo_path, slug, l10n.title, local)

    def _locate_category(self, category_id: str, lang: str, reads: _Reads) -> Location | None:
        reads.add("category", category_id)
        node = self.index.categories.get(category_id)
        if node is None:
            return None
        if node.kind not in paths.CATEGORY_KINDS:
            raise RenderError(f"category:{category_id}: unknown kind {node.kind!r}, expected one of "
                              f"{', '.join(paths.CATEGORY_KINDS)}")
        chain = self._chain("category", self.index.categories, category_id)
        slugs = []
        for ancestor in chain:
            reads.add("category", ancestor)
            l10n = self.index.category_l10ns.get((ancestor, lang))
            if not self._is_published(l10n):
                return None
            assert l10n is not None
            slugs.append(self._slug("category", ancestor, lang, l10n.slug, l10n.title))
        own = self.index.category_l10ns[(category_id, lang)]
        path, hugo_path = paths.category_file(lang, node.kind, slugs)
        section = [] if node.kind == "pages" else [paths.section_slug(node.kind, lang)]
        url = paths.url_from_segments(self._prefix(lang), section + slugs)
        return Location(path, url, hugo_path, slugs[-1], own.title)

    def _locate_indirect(self, kind: str, id_: str, lang: str, reads: _Reads) -> Location | None:
        """People and organizations: published in the language AND connected to the website."""
        reads.add(kind, id_)
        if (kind, id_) not in self.index.connected or self.index.indirect(kind, id_) is None:
            return None
        l10n = self.index.indirect_l10n(kind, id_, lang)
        if not self._is_published(l10n):
            return None
        assert l10n is not None
        name = person_name(l10n) if kind == "person" else (l10n.title or "")
        slug = self._slug(kind, id_, lang, l10n.slug, name)
        section = "persons" if kind == "person" else "organizations"
        path, hugo_path = paths.leaf_file(lang, section, slug)
        url = paths.url_from_segments(self._prefix(lang), [paths.section_slug(section, lang), slug])
        date = self._local(l10n.published_at) if l10n.published_at else None
        return Location(path, url, hugo_path, slug, name, date)

    def _locate_media(self, media_id: str, reads: _Reads) -> Location | None:
        reads.add("media", media_id)
        if media_id not in self.index.connected_media:  # connected, and the media exists
            return None
        file_id = paths.media_file_id(media_id)
        if not file_id:
            raise RenderError(f"media:{media_id!r}: the id has no character usable in a file name")
        return Location(paths.media_file(file_id))

    def _menu_row(self, menu_id: str):
        return self.session.execute(
            select(Menu.id, Menu.website_id, Menu.identifier, Menu.language, Menu.title).where(Menu.id == menu_id)
        ).first()

    def _locate_menu(self, menu_id: str, reads: _Reads) -> Location | None:
        reads.add("menu", menu_id)
        menu = self._menu_row(menu_id)
        if menu is None or menu.website_id != self.website_id or menu.language not in self._website.languages:
            return None
        self._check_language(menu.language)
        items = self.session.execute(select(func.count()).where(MenuItem.menu_id == menu_id)).scalar_one()
        if not items:
            return None
        identifier = paths.parameterize(menu.identifier)
        if not identifier:
            raise RenderError(f"menu:{menu_id}: identifier {menu.identifier!r} is empty once parameterized")
        return Location(paths.menu_file(menu.language, identifier))

    # ------------------------------------------------------------------ links

    def _location_of(self, kind: str, id_: str, lang: str, reads: _Reads) -> Location | None:
        """Another object's location, as seen from the file being rendered."""
        try:
            located = self._located(FileOwner(kind, id_, lang))
        except RenderError:
            # A broken neighbour (e.g. a post without published_at) is left out of lists
            # and links; its own render reports the error.
            reads.add(kind, id_)
            return None
        reads.update(located.reads)
        return located.location

    def _link(self, kind: str, id_: str, lang: str, reads: _Reads, *, named: bool = True) -> dict[str, Any] | None:
        location = self._location_of(kind, id_, lang, reads)
        if location is None:
            return None
        link: dict[str, Any] = {
            "permalink": location.url, "path": location.hugo_path, "slug": location.slug, "file": location.path,
        }
        if named:
            link["name"] = location.title or ""
        return link

    def _links(self, kind: str, ids: Iterable[str], lang: str, reads: _Reads) -> list[dict[str, Any]]:
        return [link for id_ in ids if (link := self._link(kind, id_, lang, reads)) is not None]

    def _home_crumb(self, lang: str, reads: _Reads) -> dict[str, Any]:
        home = self.index.home_id
        location = self._location_of("page", home, lang, reads) if home else None
        if location is None:
            return {"title": self._website.name, "path": self._prefix(lang) + "/"}
        return {"title": location.title or "", "path": location.url}

    def _section_crumb(self, section: str, lang: str) -> dict[str, Any]:
        location = self._locate_section(section, lang)
        assert location is not None
        return {"title": location.title, "path": location.url}

    # ------------------------------------------------------------------ heavy reads (per owner)

    def _localization(self, kind: str, id_: str, lang: str):
        found = self._prefetched.localizations.get((kind, id_, lang))
        if found is not None:
            return found
        return self.session.execute(
            select(Localization.id, Localization.title, Localization.slug, Localization.summary, Localization.text,
                   Localization.first_name, Localization.last_name, Localization.published_at)
            .where(Localization.about_type == kind, Localization.about_id == id_, Localization.language == lang)
        ).one()

    def _blocks(self, localization_id: int):
        if localization_id in self._prefetched.blocks_of:
            return self._prefetched.blocks_of[localization_id]
        return self.session.execute(
            select(Block.id, Block.template, Block.data, Block.published)
            .where(Block.localization_id == localization_id).order_by(Block.position, Block.id)
        ).all()

    # ------------------------------------------------------------------ content contexts

    def _localized_context(self, owner: FileOwner, location: Location, aliases: list[str],
                           reads: _Reads) -> dict[str, Any]:
        kind, id_, lang = owner
        l10n = self._localization(kind, id_, lang)
        blocks = self._blocks(l10n.id)
        for block in blocks:
            reads.add("block", block.id)
        contents = [b for b in (self._block(owner, block, lang, reads) for block in blocks if block.published) if b]
        texts = [plain_text(l10n.text), *(plain_text(t) for b in contents for t in b["texts"])]
        title = person_name(l10n) if kind == "person" else l10n.title
        category_kind = self.index.categories[id_].kind if kind == "category" else ""
        context: dict[str, Any] = {
            "title": title,
            "url": location.url,
            "slug": location.slug,
            "aliases": aliases,
            "date": location.date,
            "hugo": {"permalink": location.url, "path": location.hugo_path, "file": location.path,
                     "slug": location.slug},
            "published_at": location.date,
            "search": {
                "id": f"{kind}-{id_}-{lang}",
                "about_id": id_,
                "url": location.url,
                "kind": CATEGORY_SEARCH_KINDS[category_kind] if kind == "category" else SEARCH_KINDS[kind],
                "lang": lang,
                "title": title,
                "summary": l10n.summary,
                "body": " ".join(t for t in texts if t),
            },
            "breadcrumbs": self._breadcrumbs(kind, id_, lang, title, reads),
            "translation_key": (f"{CATEGORY_TRANSLATION_KEY_PREFIXES[category_kind]}-{id_}" if kind == "category"
                                else f"{TRANSLATION_KEY_PREFIXES[kind]}-{id_}"),
            "summary": l10n.summary,
            "text": l10n.text,
            "reading_time": reading_time(texts, lang),
            "contents": contents,
        }
        if kind == "post":
            context.update(self._post_fields(id_, lang, reads))
        elif kind == "page":
            context.update(self._page_fields(id_, lang, reads))
        elif kind == "category":
            node = self.index.categories[id_]
            context.update({"position": node.position, "kind": node.kind})
        elif kind == "person":
            media_id = self.index.indirect("person", id_).media_id  # type: ignore[union-attr]
            context.update({"first_name": l10n.first_name, "last_name": l10n.last_name,
                            "link_title": " ".join(p for p in (l10n.last_name, l10n.first_name) if p) or title,
                            "image": self._image(media_id, None, reads)})
        elif kind == "organization":
            media_id = self.index.indirect("organization", id_).media_id  # type: ignore[union-attr]
            context["logo"] = self._image(media_id, None, reads)
        return context

    def _breadcrumbs(self, kind: str, id_: str, lang: str, title: str | None, reads: _Reads) -> list[dict[str, Any]]:
        if kind == "page" and id_ == self.index.home_id:
            return [{"title": title or "", "path": None}]
        crumbs = [self._home_crumb(lang, reads)]
        if kind == "page":
            for ancestor in self._chain("page", self.index.pages, id_)[:-1]:
                if ancestor != self.index.home_id:
                    location = self._location_of("page", ancestor, lang, reads)
                    assert location is not None  # the page has a file, so its ancestors do
                    crumbs.append({"title": location.title or "", "path": location.url})
        elif kind == "category":
            node = self.index.categories[id_]
            if node.kind != "pages":
                crumbs.append(self._section_crumb(node.kind, lang))
            for ancestor in self._chain("category", self.index.categories, id_)[:-1]:
                location = self._location_of("category", ancestor, lang, reads)
                assert location is not None
                crumbs.append({"title": location.title or "", "path": location.url})
        else:
            crumbs.append(self._section_crumb({"post": "posts", "person": "persons"}.get(kind, "organizations"), lang))
        crumbs.append({"title": title or "", "path": None})
        return crumbs

    def _image(self, media_id: str | None, alt: Any, reads: _Reads) -> dict[str, Any] | None:
        """A media reference, shown only when the website is connected to it."""
        if not media_id:
            return None
        if self._location_of("media", media_id, "", reads) is None:
            return None
        return {"id": media_id, "alt": alt if alt is not None else ""}

    def _post_fields(self, post_id: str, lang: str, reads: _Reads) -> dict[str, Any]:
        author_ids = self._prefetched.authors_of.get(post_id)
        if author_ids is None:
            author_ids = self.session.execute(
                select(PostAuthor.person_id).where(PostAuthor.post_id == post_id)
                .order_by(PostAuthor.position, PostAuthor.person_id)
            ).scalars().all()
        authors = [loc.slug for pid in author_ids if (loc := self._location_of("person", pid, lang, reads))]
        categories = self._links("category", self.index.post_categories.get(post_id, []), lang, reads)
        return {
            "authors": authors,
            "image": self._image(self.index.posts.get(post_id), None, reads),
            "categories": categories,
            "categories_label": CATEGORIES_LABELS.get(lang, "Categories"),
        }

    def _page_fields(self, page_id: str, lang: str, reads: _Reads) -> dict[str, Any]:
        children = []
        for child_id in self.index.page_children.get(page_id, []):
            link = self._link("page", child_id, lang, reads, named=False)
            if link:
                children.append(link)
        categories = self._links("category", self.index.page_categories.get(page_id, []), lang, reads)
        return {
            "position": self.index.pages[page_id].position,
            "children": [link["file"].split("/", 2)[2] for link in children],
            "child_pages": children,
            "categories": categories,
            "categories_label": CATEGORIES_LABELS.get(lang, "Categories"),
        }

    # ------------------------------------------------------------------ blocks

    def _block(self, owner: FileOwner, block: Any, lang: str, reads: _Reads) -> dict[str, Any] | None:
        data = block.data if isinstance(block.data, dict) else {}
        where = f"block {block.id} of {owner}"
        title = _scalar(data, "title", where)
        rendered: dict[str, Any] = {
            "id": block.id,
            "template": block.template,
            "title": title,
            "slug": paths.parameterize(title) if isinstance(title, str) and title else None,
            "texts": [],
        }
        template = block.template
        if template == "chapter":
            text = _scalar(data, "text", where)
            rendered.update(text=text, texts=[text] if isinstance(text, str) else [])
        elif template == "title":
            pass
        elif template == "image":
            media_id = _scalar(data, "image", where)
            rendered.update(image=self._image(str(media_id), _scalar(data, "alt", where), reads) if media_id else None,
                            credit=_scalar(data, "credit", where))
        elif template == "call_to_action":
            text = _scalar(data, "text", where)
            buttons = [{"title": _scalar(b, "title", where), "url": _scalar(b, "url", where)}
                       for b in _list_of_dicts(data, "buttons", where)]
            rendered.update(text=text, buttons=buttons, texts=[text] if isinstance(text, str) else [])
        elif template == "key_figures":
            rendered["figures"] = [
                {"number": _scalar(f, "number", where), "unit": _scalar(f, "unit", where),
                 "description": _scalar(f, "description", where)}
                for f in _list_of_dicts(data, "figures", where)
            ]
        elif template == "posts":
            rendered.update(self._posts_block(data, lang, where, reads))
        elif template == "pages":
            rendered.update(self._pages_block(owner, data, lang, where, reads))
        elif template in ("persons", "organizations"):
            kind = "person" if template == "persons" else "organization"
            rendered[template] = self._links(kind, _ids(data, template, where), lang, reads)
        else:
            # A template we do not model: its data goes out as is (keys sorted), so nothing is lost.
            rendered["data"] = _plain_data(data, where)
        return rendered

    def _posts_block(self, data: dict, lang: str, where: str, reads: _Reads) -> dict[str, Any]:
        mode = _scalar(data, "mode", where) or "all"
        quantity = _scalar(data, "quantity", where)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            quantity = DEFAULT_POSTS_QUANTITY
        category_id = _scalar(data, "category", where)
        category_link = None
        if mode == "selection":
            candidates = _ids(data, "posts", where)
        elif mode == "category":
            category_id = str(category_id) if category_id is not None else ""
            category_link = self._link("category", category_id, lang, reads) if category_id else None
            candidates = self._posts_of_category_tree(category_id, reads) if category_link else []
        elif mode == "all":
            candidates = list(self.index.posts)
        else:
            raise RenderError(f"{where}: posts mode {mode!r} is not one of all, category, selection")
        if mode == "selection":
            posts = self._links("post", candidates, lang, reads)
        else:
            posts = self._newest_posts(candidates, lang, quantity, reads)
        return {"mode": mode, "category": category_link["slug"] if category_link else None,
                "quantity": quantity, "posts": posts}

    def _posts_of_category_tree(self, category_id: str, reads: _Reads) -> list[str]:
        ids: list[str] = []
        pending = [category_id]
        seen: set[str] = set()
        while pending:
            current = pending.pop(0)
            if current in seen:
                continue
            seen.add(current)
            reads.add("category", current)
            ids.extend(self.index.category_posts.get(current, []))
            pending.extend(self.index.category_children.get(current, []))
        return sorted(set(ids))

    def _posts_newest_first(self, lang: str) -> list[str]:
        """Every published post of the website in that language, newest first (then by id):
        sorted once per renderer, since every `posts` block of every page asks for it."""
        if lang not in self._newest_first:
            dated = []
            for post_id in self.index.posts:
                published_at = self._post_date(post_id, lang, self.index.post_l10ns.get((post_id, lang)), strict=False)
                if published_at is not None:
                    dated.append((-published_at.timestamp(), post_id))
            self._newest_first[lang] = [post_id for _, post_id in sorted(dated)]
        return self._newest_first[lang]

    def _newest_posts(self, candidates: list[str], lang: str, quantity: int, reads: _Reads) -> list[dict[str, Any]]:
        """Published posts, newest first (then by id), cut at `quantity`. Only the listed
        posts are reads: a post entering the list is identification's business (it
        references the pages listing its categories)."""
        wanted = set(candidates)
        links = []
        for post_id in self._posts_newest_first(lang):
            if post_id not in wanted:
                continue
            if len(links) >= quantity:
                break
            link = self._link("post", post_id, lang, reads)
            if link:
                links.append(link)
        return links

    def _pages_block(self, owner: FileOwner, data: dict, lang: str, where: str, reads: _Reads) -> dict[str, Any]:
        mode = _scalar(data, "mode", where) or "children"
        page_link = None
        if mode == "children":
            page_id = _scalar(data, "page", where)
            if page_id is None and owner.about_type == "page":
                page_id = owner.about_id
            page_id = str(page_id) if page_id is not None else ""
            page_link = self._link("page", page_id, lang, reads) if page_id else None
            ids = self.index.page_children.get(page_id, []) if page_link else []
        elif mode == "selection":
            ids = _ids(data, "pages", where)
        else:
            raise RenderError(f"{where}: pages mode {mode!r} is not one of children, selection")
        return {"mode": mode, "page": page_link, "pages": self._links("page", ids, lang, reads)}

    # ------------------------------------------------------------------ sections and data files

    def _section_context(self, owner: FileOwner, location: Location, aliases: list[str],
                         reads: _Reads) -> dict[str, Any]:
        section, lang = owner.about_id, owner.language
        return {
            "title": location.title,
            "url": location.url,
            "slug": location.slug,
            "aliases": aliases,
            "hugo": {"permalink": location.url, "path": location.hugo_path, "file": location.path,
                     "slug": location.slug},
            "search": {"id": f"section-{section}-{lang}", "about_id": section, "url": location.url,
                       "kind": SEARCH_KINDS["section"], "lang": lang, "title": location.title},
            "breadcrumbs": [self._home_crumb(lang, reads), {"title": location.title, "path": None}],
            "translation_key": f"{TRANSLATION_KEY_PREFIXES['section']}-{section}",
            "reading_time": reading_time([], lang),
        }

    def _media_context(self, owner: FileOwner) -> dict[str, Any]:
        media = self._prefetched.media.get(owner.about_id)
        if media is None:
            media = self.session.execute(select(*_MEDIA_COLUMNS).where(Medium.id == owner.about_id)).one()
        ratio = round(media.width / media.height, 6) if media.width and media.height else None
        return {"name": media.name, "size": media.size, "width": media.width, "height": media.height,
                "ratio": ratio, "url": media.url, "content_type": media.content_type}

    def _menu_context(self, owner: FileOwner, reads: _Reads) -> dict[str, Any]:
        menu = self._menu_row(owner.about_id)
        rows = self.session.execute(
            select(MenuItem.id, MenuItem.parent_id, MenuItem.title, MenuItem.url, MenuItem.target_type,
                   MenuItem.target_id)
            .where(MenuItem.menu_id == menu.id).order_by(MenuItem.position, MenuItem.id)
        ).all()
        children: dict[int | None, list[Any]] = {}
        ids = {row.id for row in rows}
        for row in rows:
            parent = row.parent_id if row.parent_id in ids else None
            children.setdefault(parent, []).append(row)

        def items(parent: int | None, depth: int) -> list[dict[str, Any]]:
            if depth > 32:
                raise RenderError(f"menu:{menu.id}: items nested deeper than 32 levels (a parent loop?)")
            out = []
            for row in children.get(parent, []):
                item = self._menu_item(menu.id, row, menu.language, reads)
                if item is not None:
                    item["children"] = items(row.id, depth + 1)
                    out.append(item)
            return out

        return {"title": menu.title if menu.title is not None else menu.identifier, "items": items(None, 0)}

    def _menu_item(self, menu_id: str, row: Any, lang: str, reads: _Reads) -> dict[str, Any] | None:
        item: dict[str, Any] = {"title": row.title, "slug": paths.parameterize(row.title), "new_tab": False,
                                "path": None, "file": None}
        if row.target_type:
            if row.target_type not in ("page", "post", "category", "person", "organization"):
                raise RenderError(f"menu:{menu_id}: item {row.title!r} targets an unknown type {row.target_type!r}")
            location = self._location_of(row.target_type, row.target_id or "", lang, reads)
            if location is None:
                return None  # an unpublished target hides the item and its children
            item.update(target=location.url, kind=row.target_type, path=location.hugo_path, file=location.path)
        elif row.url:
            item.update(target=row.url, kind="url")
        else:
            item.update(target=None, kind="blank")
        return item

    def _website_context(self, owner: FileOwner) -> dict[str, Any]:
        website = self._website
        return {"name": website.name, "url": website.url, "language": owner.language,
                "default_language": website.default_language, "languages": list(website.languages)}

    def _languages_context(self) -> dict[str, Any]:
        website = self._website
        for lang in website.languages:
            self._check_language(lang)
        return {
            "languages": [
                {"code": lang, "title": website.name, "content_dir": f"content/{lang}", "locale": lang,
                 "label": LANGUAGE_LABELS.get(lang.split("-")[0].split("_")[0], lang), "weight": weight}
                for weight, lang in enumerate(website.languages, start=1)
            ],
            "taxonomies": HUGO_TAXONOMIES,
        }


# --------------------------------------------------------------------------- prefetch

LOCALIZED_KINDS = ("page", "post", "category", "person", "organization")
_LOCALIZATION_COLUMNS = (Localization.id, Localization.title, Localization.slug, Localization.summary,
                         Localization.text, Localization.first_name, Localization.last_name,
                         Localization.published_at)
_MEDIA_COLUMNS = (Medium.name, Medium.size, Medium.width, Medium.height, Medium.url, Medium.content_type)
_IN_BATCH = 500  # ids per IN list (SQLite's variable limit, and PostgreSQL plans)


def _batches(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _IN_BATCH):
        yield values[start:start + _IN_BATCH]


@dataclass
class _Prefetched:
    """One chunk's heavy fields. A miss falls back to the per-owner query, so a renderer
    used without prefetch (tests, lineage) renders exactly the same bytes."""

    localizations: dict[tuple[str, str, str], Any] = field(default_factory=dict)
    blocks_of: dict[int, list[Any]] = field(default_factory=dict)
    authors_of: dict[str, list[str]] = field(default_factory=dict)
    media: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, owners: list[FileOwner]) -> _Prefetched:
        out = cls()
        wanted = {(o.about_type, o.about_id, o.language) for o in owners if o.about_type in LOCALIZED_KINDS}
        for kind in LOCALIZED_KINDS:
            ids = sorted({id_ for k, id_, _ in wanted if k == kind})
            for batch in _batches(ids):
                for row in session.execute(
                    select(Localization.about_id, Localization.language, *_LOCALIZATION_COLUMNS)
                    .where(Localization.about_type == kind, Localization.about_id.in_(batch))
                ):
                    if (kind, row.about_id, row.language) in wanted:
                        out.localizations[(kind, row.about_id, row.language)] = row
        localization_ids = sorted(row.id for row in out.localizations.values())
        for batch in _batches(localization_ids):
            out.blocks_of.update((i, []) for i in batch)
            for row in session.execute(
                select(Block.localization_id, Block.id, Block.template, Block.data, Block.published)
                .where(Block.localization_id.in_(batch)).order_by(Block.localization_id, Block.position, Block.id)
            ):
                out.blocks_of[row.localization_id].append(row)
        post_ids = sorted({id_ for k, id_, _ in wanted if k == "post"})
        for batch in _batches(post_ids):
            out.authors_of.update((i, []) for i in batch)
            for post_id, person_id in session.execute(
                select(PostAuthor.post_id, PostAuthor.person_id).where(PostAuthor.post_id.in_(batch))
                .order_by(PostAuthor.post_id, PostAuthor.position, PostAuthor.person_id)
            ):
                out.authors_of[post_id].append(person_id)
        media_ids = sorted({o.about_id for o in owners if o.about_type == "media"})
        for batch in _batches(media_ids):
            for row in session.execute(select(Medium.id, *_MEDIA_COLUMNS).where(Medium.id.in_(batch))):
                out.media[row.id] = row
        return out


# --------------------------------------------------------------------------- block data checks


def _scalar(data: Any, key: str, where: str) -> Any:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, SCALAR_TYPES):
        raise RenderError(f"{where}: field {key!r} must be text or a number, not a {type(value).__name__}")
    return value


def _list_of_dicts(data: dict, key: str, where: str) -> list[dict]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise RenderError(f"{where}: field {key!r} must be a list of objects")
    return value


def _ids(data: dict, key: str, where: str) -> list[str]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str | int) and not isinstance(v, bool) for v in value):
        raise RenderError(f"{where}: field {key!r} must be a list of ids")
    return [str(v) for v in value]


def _plain_data(value: Any, where: str) -> Any:
    """Unmodelled block data, checked to be JSON-like all the way down."""
    if isinstance(value, dict):
        return {str(k): _plain_data(v, where) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_data(v, where) for v in value]
    if isinstance(value, SCALAR_TYPES):
        return value
    raise RenderError(f"{where}: unsupported value of type {type(value).__name__}")


def _hugo_aliases(aliases: list[str], language_prefix: str) -> list[str]:
    """Hugo puts the aliases of a language that has a URL prefix (/en) under that prefix:
    /en/old/ would redirect from /en/en/old/. Osuny writes "/../" + the old URL to climb
    out of it; the default language (no prefix) needs nothing."""
    if not language_prefix:
        return aliases
    return [f"/..{alias}" if alias.startswith("/") else alias for alias in aliases]


def _clean_aliases(owner: FileOwner, aliases: Sequence[str], url: str | None) -> list[str]:
    for alias in aliases:
        if not isinstance(alias, str):
            raise RenderError(f"{owner}: alias {alias!r} is not a string")
    return sorted({a for a in aliases if a and a != url})

"""The fixture loader: `osuny-pipeline load FILE.yaml` (input contract: ../shared/FIXTURES.md).

A fixture writes CMS content the way an editor saving in the CMS would: every row goes
through plain SQL, so the change-log triggers see each insert, update and delete.

How a load runs, and why:

1. **Parse** the whole file into normalised entries (types, required fields, dates,
   block templates, category kinds, website ids). Nothing touches the database yet.
2. **Read** the database state the file concerns, once per table (never per object:
   a 50,000-object file loads in seconds).
3. **Check references** against "the file, else the database, minus what the file
   deletes". Any problem raises `FixtureError("<list>[<i>] (id '<id>'): <field>: ...")`
   before the first write.
4. **Write** in one transaction, comparing before writing: an unchanged row is not
   written, join rows and blocks are diffed one by one, a menu's items are replaced
   only when its normalised item tree differs. Loading the same file twice therefore
   appends no change_log row the second time.

Accepted beyond FIXTURES.md (all optional):

* websites: `time_zone` (IANA name, default Europe/Paris); `credentials` may also be
  `file:<path>` (a token or key file; a relative path is resolved like `repository`).
  The secret itself is never read here.
* localizations of every type may have `text` (a body) and `blocks`; people's
  `biography` is stored as `text`; categories and organizations' `name` as `title`.
* a block may have `published: false` (default true).
* menus: `title`; a menu item may have neither `target` nor `url` (a heading).
* a file named `*.json` is read as JSON (a subset of YAML, parsed ~50x faster: a
  50,000-object seed loads in seconds instead of ~20 s of YAML parsing).
* block `data` values that YAML parsed as dates are stored as ISO 8601 strings
  (JSON has no date type).

Semantics worth knowing:

* An entry is the full state of its object: localizations, blocks, categories and
  authors it does not list are removed. Omitted optional fields take their defaults
  (`published` defaults to false, as in the CMS).
* `{id: X, deleted: true}` deletes X with its localizations, blocks, join rows and menu
  items, explicitly, so that each deletion is in the change log. Deleting a person or a
  category removes it from the posts/pages that listed it; deleting a media clears the
  images that used it; deleting a website deletes its pages, posts, categories and menus.
  Deleting a page or category that remaining children still have as parent is an error.
  Deleting an id that does not exist does nothing (so the load stays idempotent).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Connection, Engine, Table, and_, bindparam, delete, insert, inspect, select, update
from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import Base
from osuny_pipeline.errors import ConfigurationError, FixtureError

# ----------------------------------------------------------------------------- vocabulary

#: Top-level list -> the object type it holds (the `about_type` of change_log and owners).
LIST_TYPES: dict[str, str] = {
    "websites": "website",
    "media": "media",
    "people": "person",
    "organizations": "organization",
    "categories": "category",
    "pages": "page",
    "posts": "post",
    "menus": "menu",
}
TYPE_TABLES = {
    "website": "websites", "media": "media", "person": "people", "organization": "organizations",
    "category": "categories", "page": "pages", "post": "posts", "menu": "menus",
}
LOCALIZED = ("category", "page", "post", "person", "organization")
DIRECT = ("category", "page", "post", "menu")
BLOCK_TEMPLATES = frozenset({
    "chapter", "title", "image", "call_to_action", "key_figures",
    "posts", "pages", "persons", "organizations",
})
CATEGORY_KINDS = frozenset({"posts", "pages", "persons", "organizations"})
MENU_TARGETS = ("page", "post", "category", "person", "organization")
LOCALIZATION_COLUMNS = ("title", "slug", "summary", "text", "first_name", "last_name", "published", "published_at")

WEBSITE_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
LANGUAGE = re.compile(r"[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# scheme://..., or scp-like host:path (a colon before any slash): a git URL, not a local path.
GIT_URL = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://|[^/:]+:)")

_CHUNK = 900  # bound parameters per IN (...): far under SQLite's and PostgreSQL's limits
_FULL_SCAN_OVER = 2000  # above this many objects of a type, reading the whole table is cheaper


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


# ----------------------------------------------------------------------------- normalised entries


@dataclass
class BlockEntry:
    id: str
    template: str
    data: dict[str, Any]
    published: bool
    where: str  # "pages[0] (id 'home'): localizations.fr.blocks[1] (id 'home-b2')"


@dataclass
class LocEntry:
    language: str
    values: dict[str, Any]  # LOCALIZATION_COLUMNS
    blocks: list[BlockEntry]


@dataclass
class MenuItemEntry:
    title: str
    url: str | None
    target_type: str | None
    target_id: str | None
    children: list[MenuItemEntry]

    def normalised(self) -> tuple:
        return (self.title, self.url, self.target_type, self.target_id,
                tuple(c.normalised() for c in self.children))


@dataclass
class Entry:
    list_name: str
    index: int
    id: str
    deleted: bool = False
    row: dict[str, Any] = field(default_factory=dict)  # base-table columns
    locs: dict[str, LocEntry] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    items: list[MenuItemEntry] = field(default_factory=list)

    @property
    def type(self) -> str:
        return LIST_TYPES[self.list_name]

    @property
    def where(self) -> str:
        return f"{self.list_name}[{self.index}] (id {self.id!r})"


@dataclass(frozen=True)
class Ref:
    """A reference the file makes, checked once the database state is known."""

    where: str
    field: str
    type: str
    id: str
    website: str | None = None  # a direct object must be on this website
    kind: str | None = None  # a category must be of this kind


@dataclass
class Fixture:
    entries: dict[str, dict[str, Entry]]  # type -> id -> entry (upserts and deletions)
    refs: list[Ref]

    def upserts(self, type_: str) -> list[Entry]:
        return [e for e in self.entries[type_].values() if not e.deleted]

    def deletions(self, type_: str) -> list[Entry]:
        return [e for e in self.entries[type_].values() if e.deleted]


# ----------------------------------------------------------------------------- parsing


def _fail(where: str, path: str, problem: str) -> FixtureError:
    return FixtureError(f"{where}: {path}: {problem}" if path else f"{where}: {problem}")


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


class _Reader:
    """Typed access to one mapping of the file, with errors naming entry and field."""

    def __init__(self, raw: Any, where: str, prefix: str, allowed: Iterable[str]):
        if not isinstance(raw, Mapping):
            raise _fail(where, prefix.rstrip("."), f"expected a mapping, got {_type_name(raw)}")
        unknown = sorted(str(k) for k in raw if k not in set(allowed))
        if unknown:
            raise _fail(where, prefix + unknown[0], f"unknown field (expected one of: {', '.join(sorted(allowed))})")
        self.raw, self.where, self.prefix = raw, where, prefix

    def fail(self, key: str, problem: str) -> FixtureError:
        return _fail(self.where, self.prefix + key, problem)

    def has(self, key: str) -> bool:
        return key in self.raw

    def get(self, key: str) -> Any:
        return self.raw.get(key)

    def string(self, key: str, *, required: bool = False, default: str | None = None,
               nullable: bool = True) -> str | None:
        if key not in self.raw:
            if required:
                raise self.fail(key, "missing required field")
            return default
        value = self.raw[key]
        if value is None:
            if required or not nullable:
                raise self.fail(key, "must not be null")
            return default if default is not None else None
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {_type_name(value)} {value!r}")
        return value

    def integer(self, key: str, *, default: int | None = None) -> int | None:
        value = self.raw.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"expected an integer, got {_type_name(value)} {value!r}")
        return value

    def boolean(self, key: str, *, default: bool) -> bool:
        value = self.raw.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {_type_name(value)} {value!r}")
        return value

    def id_or_null(self, key: str) -> str | None:
        return self.string(key)

    def id_list(self, key: str) -> list[str]:
        value = self.raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, f"expected a list of ids, got {_type_name(value)} {value!r}")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise self.fail(f"{key}[{i}]", f"expected an id (string), got {_type_name(item)} {item!r}")
        if len(set(value)) != len(value):
            duplicate = next(v for v in value if value.count(v) > 1)
            raise self.fail(key, f"{duplicate!r} is listed twice")
        return list(value)

    def datetime(self, key: str) -> dt.datetime | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value)
            except ValueError:
                raise self.fail(key, f"not an ISO 8601 date-time: {value!r}") from None
        if not isinstance(value, dt.datetime):
            raise self.fail(key, f"expected an ISO 8601 date-time with an offset, got {_type_name(value)} {value!r}")
        if value.tzinfo is None:
            raise self.fail(key, f"date-time without an offset: {value.isoformat()!r} (add e.g. +01:00)")
        return value


def read_fixture_file(path: str | Path) -> dict[str, Any]:
    """Parse a fixture file (YAML), with a clear error for unreadable or malformed files."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FixtureError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise FixtureError(f"{path}: not UTF-8 text") from None
    if path.suffix.lower() == ".json":
        # JSON is a subset of YAML that parses ~50x faster: the way in for huge seeds.
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FixtureError(f"{path}: invalid JSON: {exc}") from None
    else:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        try:
            data = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
        except yaml.YAMLError as exc:
            raise FixtureError(f"{path}: invalid YAML: {str(exc).splitlines()[0]}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise FixtureError(f"{path}: a fixture is a mapping of lists ({', '.join(LIST_TYPES)})")
    return data


def parse_fixture(fixture: Mapping[str, Any], base_dir: Path) -> Fixture:
    """Validate the structure of a whole fixture (no database access)."""
    if not isinstance(fixture, Mapping):
        raise FixtureError("a fixture is a mapping of lists")
    for key in fixture:
        if key not in LIST_TYPES:
            raise FixtureError(f"unknown top-level key {key!r} (expected one of: {', '.join(LIST_TYPES)})")
    parsed = Fixture(entries={t: {} for t in LIST_TYPES.values()}, refs=[])
    block_ids: dict[str, str] = {}
    for list_name, type_ in LIST_TYPES.items():
        raw_list = fixture.get(list_name)
        if raw_list is None:
            continue
        if not isinstance(raw_list, list):
            raise FixtureError(f"{list_name}: expected a list, got {_type_name(raw_list)}")
        for index, raw in enumerate(raw_list):
            entry = _parse_entry(list_name, index, raw, base_dir, parsed.refs)
            if entry.id in parsed.entries[type_]:
                first = parsed.entries[type_][entry.id]
                raise _fail(entry.where, "id", f"duplicate id (already {first.where})")
            for loc in entry.locs.values():
                for block in loc.blocks:
                    if block.id in block_ids:
                        raise _fail(block.where, "id", f"duplicate block id (already {block_ids[block.id]})")
                    block_ids[block.id] = block.where
            parsed.entries[type_][entry.id] = entry
    return parsed


def _parse_entry(list_name: str, index: int, raw: Any, base_dir: Path, refs: list[Ref]) -> Entry:
    where = f"{list_name}[{index}]"
    if not isinstance(raw, Mapping):
        raise _fail(where, "", f"expected a mapping, got {_type_name(raw)}")
    entry_id = raw.get("id")
    if not isinstance(entry_id, str) or not entry_id:
        raise _fail(where, "id", "missing required field" if entry_id is None else
                    f"expected a non-empty string, got {_type_name(entry_id)} {entry_id!r}")
    entry = Entry(list_name, index, entry_id)
    if raw.get("deleted") is True:
        entry.deleted = True
        return entry
    parse = _PARSERS[list_name]
    parse(entry, raw, base_dir, refs)
    return entry


def _parse_website(entry: Entry, raw: Mapping, base_dir: Path, refs: list[Ref]) -> None:
    r = _Reader(raw, entry.where, "", {"id", "deleted", "name", "url", "repository", "branch", "languages",
                                        "credentials", "time_zone"})
    if not WEBSITE_ID.fullmatch(entry.id) or len(entry.id) > 63:
        raise r.fail("id", f"invalid website id {entry.id!r} (lowercase letters, digits and '-', "
                           "starting with a letter or digit, at most 63 characters)")
    languages = r.get("languages")
    if languages is None:
        raise r.fail("languages", "missing required field")
    if not isinstance(languages, list) or not languages:
        raise r.fail("languages", f"expected a non-empty list of language codes, got {_type_name(languages)} "
                                  f"{languages!r}")
    for i, language in enumerate(languages):
        if not isinstance(language, str) or not LANGUAGE.fullmatch(language):
            raise r.fail(f"languages[{i}]", f"not a language code: {language!r}")
    if len(set(languages)) != len(languages):
        raise r.fail("languages", "a language is listed twice")
    time_zone = r.string("time_zone", default="Europe/Paris", nullable=False) or "Europe/Paris"
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise r.fail("time_zone", f"unknown time zone {time_zone!r}") from None
    repository = r.string("repository", required=True) or ""
    if not repository.strip():
        raise r.fail("repository", "must not be empty")
    entry.row = {
        "id": entry.id,
        "name": r.string("name", required=True),
        "url": r.string("url", default="") or "",
        "repository": resolve_repository(repository, base_dir),
        "branch": r.string("branch", default="main") or "main",
        "languages": list(languages),
        "credentials": _credentials(r, base_dir),
        "time_zone": time_zone,
    }


def resolve_repository(repository: str, base_dir: Path) -> str:
    """A git URL stays as is; a local path becomes absolute, relative to the fixture's folder."""
    if GIT_URL.match(repository):
        return repository
    path = Path(repository).expanduser()
    return str(path if path.is_absolute() else (base_dir / path).resolve())


def _credentials(r: _Reader, base_dir: Path) -> str | None:
    value = r.string("credentials")
    if value is None:
        return None
    if value.startswith("file:"):
        path = value[len("file:"):]
        if not path:
            raise r.fail("credentials", "file: needs a path (file:/path/to/token)")
        resolved = Path(path).expanduser()
        return "file:" + str(resolved if resolved.is_absolute() else (base_dir / resolved).resolve())
    if not ENV_NAME.fullmatch(value):
        # Never echo the value: it may be a secret pasted by mistake.
        raise r.fail("credentials", "expected the NAME of an environment variable (letters, digits, _) "
                                    "or file:/path; never the secret itself")
    return value


def _parse_media(entry: Entry, raw: Mapping, base_dir: Path, refs: list[Ref]) -> None:
    r = _Reader(raw, entry.where, "", {"id", "deleted", "name", "content_type", "size", "width", "height", "url"})
    entry.row = {
        "id": entry.id,
        "name": r.string("name", required=True),
        "content_type": r.string("content_type", default="application/octet-stream") or "application/octet-stream",
        "size": r.integer("size"),
        "width": r.integer("width"),
        "height": r.integer("height"),
        "url": r.string("url", default="") or "",
    }


def _media_ref(r: _Reader, entry: Entry, key: str, refs: list[Ref]) -> str | None:
    media_id = r.id_or_null(key)
    if media_id is not None:
        refs.append(Ref(entry.where, key, "media", media_id))
    return media_id


def _parse_person(entry: Entry, raw: Mapping, base_dir: Path, refs: list[Ref]) -> None:
    r = _Reader(raw, entry.where, "", {"id", "deleted", "image", "localizations"})
    entry.row = {"id": entry.id, "image_id": _media_ref(r, entry, "image", refs)}
    entry.locs = _parse_localizations(r, entry, refs, None)


def _parse_organization(entry: Entry, raw: Mapping, base_dir: Path, refs: list[Ref]) -> None:
    r = _Reader(raw, entry.where, "", {"id", "deleted", "logo", "localizations"})
    entry.row = {"id": entry.id, "logo_id": _media_ref(r, entry, "logo", refs)}
    entry.locs = _parse_localizations(r, entry, refs, None)


def _website_ref(r: _Reader, entry: Entry, refs: list[Ref]) -> str:
    website = r.string("website", required=True) or ""
    refs.append(Ref(entry.where, "website", "website", website))
    return website


def _parse_category(entry: Entry, raw: Mapping, base_dir: Path, refs: list[Ref]) -> None:
    r = _Reader(raw, entry.where, "", {"id", "deleted", "website", "kind", "parent", "position", "localizations"})
    website = _website_ref(r, entry, refs)
    kind = r.string("kind", required=True)
    if kind not in CATEGORY_KINDS:
        raise r.fail("kind", f"unknown category kind {kind!r} (expected one of: {', '.join(sorted(CATEGORY_KINDS))})")
    parent = r.id_or_null("parent")
    if parent is not None:
        if parent == entry.id:
            raise r.fail("parent", "a category cannot be its own parent")
        refs.append(Ref(entry.where, "parent", "category", parent, website=website, kind=kind))
    entry.row = {"id": entry.id, "website_id": website, "kind": kind, "parent_id": parent,
                 "position": r.integer("position", default=0)}
    entry.locs = _parse_localizations(r, entry, refs, website)


def _parse_page(entry: Entry, raw: Mapping, base_dir: Path, refs: list[Ref]) -> None:
    r = _Reader(raw, entry.where, "", {"id", "deleted", "website", "parent", "position", "categories",
                                        "localizations"})
    website = _website_ref(r, entry, refs)
    parent = r.id_or_null("parent")
    if parent is not None:
        if parent == entry.id:
            raise r.fail("parent", "a page cannot be its own parent")
        refs.append(Ref(entry.where, "parent", "page", parent, website=website))
    entry.categories = r.id_list("categories")
    refs.extend(Ref(entry.where, "categories", "category", c, website=website, kind="pages")
                for c in entry.categories)
    entry.row = {"id": entry.id, "website_id": website, "parent_id": parent,
                 "position": r.integer("position", default=0)}
    entry.locs = _parse_localizations(r, entry, refs, website)


def _parse_post(entry: Entry, raw: Mapping, base_dir: Path, refs: list[Ref]) -> None:
    r = _Reader(raw, entry.where, "", {"id", "deleted", "website", "categories", "authors", "image",
                                        "localizations"})
    website = _website_ref(r, entry, refs)
    entry.categories = r.id_list("categories")
    refs.extend(Ref(entry.where, "categories", "category", c, website=website, kind="posts")
                for c in entry.categories)
    entry.authors = r.id_list("authors")
    refs.extend(Ref(entry.where, "authors", "person", a) for a in entry.authors)
    entry.row = {"id": entry.id, "website_id": website, "image_id": _media_ref(r, entry, "image", refs)}
    entry.locs = _parse_localizations(r, entry, refs, website)


_LOC_FIELDS: dict[str, dict[str, str]] = {
    # fixture field -> localizations column, per type
    "page": {"title": "title", "slug": "slug", "summary": "summary", "text": "text"},
    "post": {"title": "title", "slug": "slug", "summary": "summary", "text": "text"},
    "category": {"name": "title", "slug": "slug", "summary": "summary", "text": "text"},
    "organization": {"name": "title", "slug": "slug", "summary": "summary", "text": "text"},
    "person": {"first_name": "first_name", "last_name": "last_name", "slug": "slug", "summary": "summary",
               "biography": "text"},
}
_LOC_REQUIRED = {"page": "title", "post": "title", "category": "name", "organization": "name"}


def _parse_localizations(r: _Reader, entry: Entry, refs: list[Ref], website: str | None) -> dict[str, LocEntry]:
    raw = r.get("localizations")
    if raw is None:
        raise r.fail("localizations", "missing required field (a mapping language -> fields; may be empty: {})")
    if not isinstance(raw, Mapping):
        raise r.fail("localizations", f"expected a mapping language -> fields, got {_type_name(raw)}")
    locs: dict[str, LocEntry] = {}
    for language, fields in raw.items():
        if not isinstance(language, str) or not LANGUAGE.fullmatch(language):
            raise r.fail("localizations", f"not a language code: {language!r}")
        if website is not None:
            refs.append(Ref(entry.where, f"localizations.{language}", "language", language, website=website))
        locs[language] = _parse_localization(entry, language, fields, refs, website)
    return locs


def _parse_localization(entry: Entry, language: str, raw: Any, refs: list[Ref], website: str | None) -> LocEntry:
    names = _LOC_FIELDS[entry.type]
    prefix = f"localizations.{language}."
    r = _Reader(raw, entry.where, prefix, {*names, "published", "published_at", "blocks"})
    values: dict[str, Any] = dict.fromkeys(LOCALIZATION_COLUMNS)
    required = _LOC_REQUIRED.get(entry.type)
    for name, column in names.items():
        values[column] = r.string(name, required=name == required)
    values["slug"] = values["slug"] or ""
    values["published"] = r.boolean("published", default=False)
    values["published_at"] = r.datetime("published_at")
    blocks_raw = r.get("blocks")
    if blocks_raw is None:
        blocks_raw = []
    if not isinstance(blocks_raw, list):
        raise r.fail("blocks", f"expected a list of blocks, got {_type_name(blocks_raw)}")
    blocks = [_parse_block(entry, f"{prefix}blocks[{i}]", b, refs, website) for i, b in enumerate(blocks_raw)]
    return LocEntry(language, values, blocks)


def _parse_block(entry: Entry, path: str, raw: Any, refs: list[Ref], website: str | None) -> BlockEntry:
    if not isinstance(raw, Mapping):
        raise _fail(entry.where, path, f"expected a block mapping, got {_type_name(raw)}")
    block_id = raw.get("id")
    if not isinstance(block_id, str) or not block_id:
        raise _fail(entry.where, f"{path}.id", "missing required field" if block_id is None else
                    f"expected a non-empty string, got {_type_name(block_id)}")
    where = f"{entry.where}: {path} (id {block_id!r})"
    r = _Reader(raw, where, "", {"id", "template", "data", "published"})
    template = r.string("template", required=True)
    if template not in BLOCK_TEMPLATES:
        raise r.fail("template", f"unknown block template {template!r} "
                                 f"(expected one of: {', '.join(sorted(BLOCK_TEMPLATES))})")
    data = r.get("data")
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise r.fail("data", f"expected a mapping, got {_type_name(data)}")
    try:
        data = _json_safe(data)
    except TypeError as exc:
        raise r.fail("data", str(exc)) from None
    d = _Reader(data, where, "data.", data.keys())  # any key: only the references are checked
    _block_refs(template, d, where, refs, website)
    return BlockEntry(block_id, template, data, r.boolean("published", default=True), where)


def _json_safe(value: Any) -> Any:
    """Block data as JSON will store it, so that comparing with the database is exact."""
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"keys must be strings, got {_type_name(k)} {k!r}")
            out[k] = _json_safe(v)
        return out
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | bool | int | float):
        return value
    raise TypeError(f"not a JSON value: {_type_name(value)} {value!r}")


def _block_refs(template: str, d: _Reader, where: str, refs: list[Ref], website: str | None) -> None:
    def listed(key: str, type_: str, **constraints: Any) -> None:
        refs.extend(Ref(where, f"data.{key}", type_, i, **constraints) for i in d.id_list(key))

    def single(key: str, type_: str, **constraints: Any) -> None:
        value = d.id_or_null(key)
        if value is not None:
            refs.append(Ref(where, f"data.{key}", type_, value, **constraints))

    # Direct objects listed by a block must belong to the block's website (when it has one).
    if template == "image":
        single("image", "media")
    elif template == "posts":
        mode = d.string("mode", default="all")
        if mode not in ("all", "category", "selection"):
            raise d.fail("mode", f"unknown mode {mode!r} (expected all, category or selection)")
        if mode == "category" and not d.has("category"):
            raise d.fail("category", "missing required field (mode: category)")
        single("category", "category", website=website, kind="posts")
        listed("posts", "post", website=website)
        d.integer("quantity")
    elif template == "pages":
        mode = d.string("mode", default="children")
        if mode not in ("children", "selection"):
            raise d.fail("mode", f"unknown mode {mode!r} (expected children or selection)")
        single("page", "page", website=website)
        listed("pages", "page", website=website)
    elif template == "persons":
        listed("persons", "person")
    elif template == "organizations":
        listed("organizations", "organization")


def _parse_menu(entry: Entry, raw: Mapping, base_dir: Path, refs: list[Ref]) -> None:
    r = _Reader(raw, entry.where, "", {"id", "deleted", "website", "identifier", "language", "title", "items"})
    website = _website_ref(r, entry, refs)
    identifier = r.string("identifier", required=True) or ""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", identifier):
        raise r.fail("identifier", f"invalid menu identifier {identifier!r} (letters, digits, '-', '_')")
    language = r.string("language", required=True) or ""
    refs.append(Ref(entry.where, "language", "language", language, website=website))
    entry.row = {"id": entry.id, "website_id": website, "identifier": identifier, "language": language,
                 "title": r.string("title")}
    entry.items = _parse_menu_items(entry, "items", r.get("items"), refs, website)


def _parse_menu_items(entry: Entry, path: str, raw: Any, refs: list[Ref], website: str) -> list[MenuItemEntry]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _fail(entry.where, path, f"expected a list of items, got {_type_name(raw)}")
    items = []
    for i, raw_item in enumerate(raw):
        item_path = f"{path}[{i}]"
        r = _Reader(raw_item, entry.where, item_path + ".", {"title", "target", "url", "children"})
        title = r.string("title", required=True) or ""
        url = r.string("url")
        target_type = target_id = None
        target = r.get("target")
        if target is not None:
            if url is not None:
                raise r.fail("target", "give either target or url, not both")
            if not isinstance(target, Mapping) or len(target) != 1:
                raise r.fail("target", f"expected one of {{{': id}, {'.join(MENU_TARGETS)}: id}}, got {target!r}")
            ((target_type, target_id),) = target.items()
            if target_type not in MENU_TARGETS:
                raise r.fail("target", f"unknown target type {target_type!r} "
                                       f"(expected one of: {', '.join(MENU_TARGETS)})")
            if not isinstance(target_id, str):
                raise r.fail(f"target.{target_type}", f"expected an id (string), got {_type_name(target_id)}")
            direct = target_type in DIRECT
            refs.append(Ref(entry.where, f"{item_path}.target.{target_type}", target_type, target_id,
                            website=website if direct else None))
        children = _parse_menu_items(entry, f"{item_path}.children", r.get("children"), refs, website)
        items.append(MenuItemEntry(title, url, target_type, target_id, children))
    return items


_PARSERS: dict[str, Callable[[Entry, Mapping, Path, list[Ref]], None]] = {
    "websites": _parse_website,
    "media": _parse_media,
    "people": _parse_person,
    "organizations": _parse_organization,
    "categories": _parse_category,
    "pages": _parse_page,
    "posts": _parse_post,
    "menus": _parse_menu,
}


# ----------------------------------------------------------------------------- database state


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


@dataclass
class DbState:
    """What the database holds for the file's concerns, read once per table."""

    rows: dict[str, dict[str, dict[str, Any]]]  # type -> id -> base row
    locs: dict[tuple[str, str, str], dict[str, Any]]  # (type, id, language) -> localization row
    blocks: dict[str, dict[str, Any]]  # block id -> row
    post_categories: dict[str, dict[str, int]]  # post -> category -> position
    post_authors: dict[str, dict[str, int]]
    page_categories: dict[str, dict[str, int]]
    menu_items: dict[str, list[dict[str, Any]]]  # menu -> item rows

    @classmethod
    def read(cls, conn: Connection, fixture: Fixture) -> DbState:
        rows = {type_: {r["id"]: r for r in _all_rows(conn, table)} for type_, table in TYPE_TABLES.items()}
        locs = _read_localizations(conn, fixture)
        blocks = _read_blocks(conn, fixture, [loc["id"] for loc in locs.values()])
        return cls(
            rows=rows, locs=locs, blocks=blocks,
            post_categories=_read_join(conn, "post_categories", "post_id", "category_id"),
            post_authors=_read_join(conn, "post_authors", "post_id", "person_id"),
            page_categories=_read_join(conn, "page_categories", "page_id", "category_id"),
            menu_items=_read_menu_items(conn),
        )


def _all_rows(conn: Connection, table_name: str) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(select(_table(table_name))).mappings()]


def _read_localizations(conn: Connection, fixture: Fixture) -> dict[tuple[str, str, str], dict[str, Any]]:
    table = _table("localizations")
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    for type_ in LOCALIZED:
        ids = sorted(fixture.entries[type_])
        if not ids:
            continue
        if len(ids) > _FULL_SCAN_OVER:
            batches: Iterable[Any] = [select(table).where(table.c.about_type == type_)]
        else:
            batches = (select(table).where(table.c.about_type == type_, table.c.about_id.in_(chunk))
                       for chunk in _chunks(ids))
        for stmt in batches:
            for r in conn.execute(stmt).mappings():
                found[(r["about_type"], r["about_id"], r["language"])] = dict(r)
    return found


def _read_blocks(conn: Connection, fixture: Fixture, localization_ids: list[int]) -> dict[str, dict[str, Any]]:
    table = _table("blocks")
    block_ids = sorted({b.id for type_ in LOCALIZED for e in fixture.upserts(type_)
                        for loc in e.locs.values() for b in loc.blocks})
    if len(block_ids) + len(localization_ids) > _FULL_SCAN_OVER:
        return {r["id"]: dict(r) for r in conn.execute(select(table)).mappings()}
    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(sorted(localization_ids)):
        found.update({r["id"]: dict(r) for r in conn.execute(
            select(table).where(table.c.localization_id.in_(chunk))).mappings()})
    for chunk in _chunks(block_ids):
        found.update({r["id"]: dict(r) for r in conn.execute(select(table).where(table.c.id.in_(chunk))).mappings()})
    return found


def _read_join(conn: Connection, table_name: str, owner: str, other: str) -> dict[str, dict[str, int]]:
    table = _table(table_name)
    joins: dict[str, dict[str, int]] = {}
    for r in conn.execute(select(table.c[owner], table.c[other], table.c.position)):
        joins.setdefault(r[0], {})[r[1]] = r[2]
    return joins


def _read_menu_items(conn: Connection) -> dict[str, list[dict[str, Any]]]:
    table = _table("menu_items")
    items: dict[str, list[dict[str, Any]]] = {}
    for r in conn.execute(select(table).order_by(table.c.menu_id, table.c.position, table.c.id)).mappings():
        items.setdefault(r["menu_id"], []).append(dict(r))
    return items


# ----------------------------------------------------------------------------- reference checks


class _World:
    """The state after the load: the file's entries over the database, minus deletions."""

    def __init__(self, fixture: Fixture, state: DbState):
        self.fixture, self.state = fixture, state
        self.deleted: dict[str, set[str]] = {t: {e.id for e in fixture.deletions(t)} for t in TYPE_TABLES}
        # A deleted website takes its direct objects with it.
        for type_ in DIRECT:
            self.deleted[type_] |= {i for i, r in state.rows[type_].items()
                                    if r["website_id"] in self.deleted["website"]}

    def row(self, type_: str, id_: str) -> dict[str, Any] | None:
        if id_ in self.deleted[type_]:
            return None
        entry = self.fixture.entries[type_].get(id_)
        if entry is not None:
            return entry.row
        return self.state.rows[type_].get(id_)

    def parent_of(self, type_: str, id_: str) -> str | None:
        row = self.row(type_, id_)
        return row["parent_id"] if row else None


def check_references(fixture: Fixture, state: DbState) -> _World:
    world = _World(fixture, state)
    for ref in fixture.refs:
        _check_ref(world, ref)
    for type_ in ("page", "category"):
        _check_no_cycles(world, type_)
        _check_no_orphaned_children(world, type_)
    _check_menu_uniqueness(world)
    return world


def _check_ref(world: _World, ref: Ref) -> None:
    if ref.type == "language":
        website = world.row("website", ref.website or "")
        if website is not None and ref.id not in website["languages"]:
            raise _fail(ref.where, ref.field, f"language {ref.id!r} is not a language of website "
                                              f"{ref.website!r} ({', '.join(website['languages'])})")
        return
    row = world.row(ref.type, ref.id)
    if row is None:
        deleted = " (deleted by this file)" if ref.id in world.deleted[ref.type] else ""
        raise _fail(ref.where, ref.field, f"unknown {ref.type} {ref.id!r}{deleted}")
    if ref.website is not None and ref.type != "website" and row["website_id"] != ref.website:
        raise _fail(ref.where, ref.field, f"{ref.type} {ref.id!r} belongs to website {row['website_id']!r}, "
                                          f"not {ref.website!r}")
    if ref.kind is not None and row["kind"] != ref.kind:
        raise _fail(ref.where, ref.field, f"category {ref.id!r} is of kind {row['kind']!r}, expected {ref.kind!r}")


def _check_no_cycles(world: _World, type_: str) -> None:
    for entry in world.fixture.upserts(type_):
        seen = {entry.id}
        parent = entry.row["parent_id"]
        while parent is not None:
            if parent in seen:
                raise _fail(entry.where, "parent", f"{type_} {parent!r} would be its own ancestor (a cycle)")
            seen.add(parent)
            parent = world.parent_of(type_, parent)


def _check_no_orphaned_children(world: _World, type_: str) -> None:
    deleted = world.deleted[type_]
    if not deleted:
        return
    for id_, row in world.state.rows[type_].items():
        if row["parent_id"] in deleted and world.row(type_, id_) is not None:
            if world.parent_of(type_, id_) in deleted:
                entry = world.fixture.entries[type_].get(row["parent_id"])
                where = entry.where if entry else f"{type_} {row['parent_id']!r}"
                raise _fail(where, "deleted", f"{type_} {id_!r} still has it as parent (delete or move it too)")


def _check_menu_uniqueness(world: _World) -> None:
    owners: dict[tuple[str, str, str], str] = {}
    for id_, row in world.state.rows["menu"].items():
        if world.row("menu", id_) is not None and id_ not in world.fixture.entries["menu"]:
            owners[(row["website_id"], row["language"], row["identifier"])] = id_
    for entry in world.fixture.upserts("menu"):
        key = (entry.row["website_id"], entry.row["language"], entry.row["identifier"])
        if key in owners:
            raise _fail(entry.where, "identifier", f"menu {owners[key]!r} already is {key[2]!r} in {key[1]!r} "
                                                   f"on website {key[0]!r}")
        owners[key] = entry.id


# ----------------------------------------------------------------------------- summary


@dataclass
class TypeCounts:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0


@dataclass
class LoadSummary:
    counts: dict[str, TypeCounts] = field(default_factory=dict)  # list name -> counts

    def of(self, list_name: str) -> TypeCounts:
        return self.counts.setdefault(list_name, TypeCounts())

    def lines(self) -> list[str]:
        return [f"{name}: {c.created} created, {c.updated} updated, {c.deleted} deleted, {c.unchanged} unchanged"
                for name in LIST_TYPES if (c := self.counts.get(name))]

    @property
    def written(self) -> bool:
        return any(c.created or c.updated or c.deleted for c in self.counts.values())


# ----------------------------------------------------------------------------- writing


class _Writer:
    def __init__(self, conn: Connection, fixture: Fixture, state: DbState, world: _World):
        self.conn, self.fixture, self.state, self.world = conn, fixture, state, world
        self.created: set[tuple[str, str]] = set()
        self.changed: set[tuple[str, str]] = set()

    def run(self) -> LoadSummary:
        self.delete_objects("menu")
        for type_ in TYPE_TABLES:
            self.upsert_rows(type_)
        self.write_localizations_and_blocks()
        self.write_joins("post", "post_categories", "post_id", "category_id", self.state.post_categories,
                         lambda e: e.categories)
        self.write_joins("post", "post_authors", "post_id", "person_id", self.state.post_authors,
                         lambda e: e.authors)
        self.write_joins("page", "page_categories", "page_id", "category_id", self.state.page_categories,
                         lambda e: e.categories)
        self.write_menu_items()
        deleted: dict[str, int] = {"menu": self.deleted_count("menu")}
        for type_ in ("post", "page", "category", "organization", "person", "media", "website"):
            deleted[type_] = self.delete_objects(type_)
        return self.summary(deleted)

    def deleted_count(self, type_: str) -> int:
        return sum(1 for i in self.world.deleted[type_] if i in self.state.rows[type_])

    def summary(self, deleted: dict[str, int]) -> LoadSummary:
        summary = LoadSummary()
        for list_name, type_ in LIST_TYPES.items():
            entries = self.fixture.upserts(type_)
            if not entries and not self.fixture.deletions(type_) and not deleted.get(type_):
                continue
            counts = summary.of(list_name)
            counts.deleted = deleted.get(type_, 0)
            for e in entries:
                key = (type_, e.id)
                if key in self.created:
                    counts.created += 1
                elif key in self.changed:
                    counts.updated += 1
                else:
                    counts.unchanged += 1
        return summary

    # -- base rows

    def upsert_rows(self, type_: str) -> None:
        entries = self.fixture.upserts(type_)
        if not entries:
            return
        table = _table(TYPE_TABLES[type_])
        existing = self.state.rows[type_]
        new = [e for e in entries if e.id not in existing]
        if type_ in ("page", "category"):
            new.sort(key=lambda e: self.depth(type_, e.id))  # parents before children
        changed = [e for e in entries if e.id in existing and _differs(e.row, existing[e.id])]
        if new:
            self.conn.execute(insert(table), [e.row for e in new])
            self.created.update((type_, e.id) for e in new)
        if changed:
            columns = [c for c in changed[0].row if c != "id"]
            stmt = (update(table).where(table.c.id == bindparam("_id"))
                    .values({c: bindparam(c) for c in columns}))
            self.conn.execute(stmt, [{"_id": e.id, **{c: e.row[c] for c in columns}} for e in changed])
            self.changed.update((type_, e.id) for e in changed)

    def depth(self, type_: str, id_: str) -> int:
        depth, parent = 0, self.world.parent_of(type_, id_)
        while parent is not None:
            depth, parent = depth + 1, self.world.parent_of(type_, parent)
        return depth

    # -- localizations and blocks

    def write_localizations_and_blocks(self) -> None:
        table = _table("localizations")
        inserts, updates, removed = [], [], []
        for type_ in LOCALIZED:
            for e in self.fixture.upserts(type_):
                for language, loc in e.locs.items():
                    old = self.state.locs.get((type_, e.id, language))
                    if old is None:
                        inserts.append({"about_type": type_, "about_id": e.id, "language": language, **loc.values})
                        self.changed.add((type_, e.id))
                    elif _differs(loc.values, old):
                        updates.append({"_id": old["id"], **loc.values})
                        self.changed.add((type_, e.id))
            removed += [(key, old) for key, old in self.state.locs.items()
                        if key[0] == type_ and self.fixture.entries[type_].get(key[1]) is not None
                        and not self.fixture.entries[type_][key[1]].deleted
                        and key[2] not in self.fixture.entries[type_][key[1]].locs]
        if inserts:
            self.conn.execute(insert(table), inserts)
        if updates:
            stmt = (update(table).where(table.c.id == bindparam("_id"))
                    .values({c: bindparam(c) for c in LOCALIZATION_COLUMNS}))
            self.conn.execute(stmt, updates)
        loc_ids = {key: old["id"] for key, old in self.state.locs.items()}
        loc_ids.update(self.new_localization_ids(inserts))
        self.write_blocks(loc_ids)
        if removed:
            self.conn.execute(delete(table).where(table.c.id.in_([old["id"] for _, old in removed])))
            self.changed.update((key[0], key[1]) for key, _ in removed)

    def new_localization_ids(self, inserts: list[dict[str, Any]]) -> dict[tuple[str, str, str], int]:
        table = _table("localizations")
        wanted = {(r["about_type"], r["about_id"], r["language"]) for r in inserts}
        ids: dict[tuple[str, str, str], int] = {}
        by_type: dict[str, list[str]] = {}
        for type_, about_id, _ in wanted:
            by_type.setdefault(type_, []).append(about_id)
        for type_, about_ids in by_type.items():
            about_ids = sorted(set(about_ids))
            stmts = ([select(table.c.id, table.c.about_type, table.c.about_id, table.c.language)
                      .where(table.c.about_type == type_)] if len(about_ids) > _FULL_SCAN_OVER else
                     [select(table.c.id, table.c.about_type, table.c.about_id, table.c.language)
                      .where(table.c.about_type == type_, table.c.about_id.in_(chunk))
                      for chunk in _chunks(about_ids)])
            for stmt in stmts:
                for id_, *key in self.conn.execute(stmt):
                    if tuple(key) in wanted:
                        ids[(key[0], key[1], key[2])] = id_
        return ids

    def write_blocks(self, loc_ids: dict[tuple[str, str, str], int]) -> None:
        table = _table("blocks")
        inserts, updates, in_file, scope = [], [], set(), set()
        loc_ids_of: dict[tuple[str, str], list[int]] = {}
        for (type_, about_id, _), loc_id in loc_ids.items():
            loc_ids_of.setdefault((type_, about_id), []).append(loc_id)
        for type_ in LOCALIZED:
            for e in self.fixture.upserts(type_):
                for language, loc in e.locs.items():
                    loc_id = loc_ids[(type_, e.id, language)]
                    scope.add(loc_id)
                    for position, block in enumerate(loc.blocks):
                        in_file.add(block.id)
                        row = {"localization_id": loc_id, "position": position, "template": block.template,
                               "data": block.data, "published": block.published}
                        old = self.state.blocks.get(block.id)
                        if old is None:
                            inserts.append({"id": block.id, **row})
                            self.changed.add((type_, e.id))
                        elif _differs(row, old):
                            updates.append({"_id": block.id, **row})
                            self.changed.add((type_, e.id))
                # Blocks of localizations this file removes go too.
                scope.update(loc_ids_of.get((type_, e.id), []))
        if inserts:
            self.conn.execute(insert(table), inserts)
        if updates:
            stmt = (update(table).where(table.c.id == bindparam("_id"))
                    .values({c: bindparam(c) for c in ("localization_id", "position", "template", "data",
                                                        "published")}))
            self.conn.execute(stmt, updates)
        stale = sorted(i for i, old in self.state.blocks.items()
                       if old["localization_id"] in scope and i not in in_file)
        for chunk in _chunks(stale):
            self.conn.execute(delete(table).where(table.c.id.in_(chunk)))
        by_loc_id = {v: k for k, v in loc_ids.items()}
        self.changed.update(by_loc_id[self.state.blocks[i]["localization_id"]][:2] for i in stale
                            if self.state.blocks[i]["localization_id"] in by_loc_id)

    # -- join rows

    def write_joins(self, type_: str, table_name: str, owner: str, other: str,
                    existing: dict[str, dict[str, int]], listed: Callable[[Entry], list[str]]) -> None:
        table = _table(table_name)
        inserts, updates, deletes = [], [], []
        for e in self.fixture.upserts(type_):
            wanted = {other_id: position for position, other_id in enumerate(listed(e))}
            have = existing.get(e.id, {})
            for other_id, position in wanted.items():
                if other_id not in have:
                    inserts.append({owner: e.id, other: other_id, "position": position})
                elif have[other_id] != position:
                    updates.append({"_owner": e.id, "_other": other_id, "position": position})
            deletes += [(e.id, other_id) for other_id in have if other_id not in wanted]
            if wanted != have:
                self.changed.add((type_, e.id))
        if deletes:
            self.delete_pairs(table, owner, other, deletes)
        if inserts:
            self.conn.execute(insert(table), inserts)
        if updates:
            stmt = (update(table)
                    .where(table.c[owner] == bindparam("_owner"), table.c[other] == bindparam("_other"))
                    .values(position=bindparam("position")))
            self.conn.execute(stmt, updates)

    def delete_pairs(self, table: Table, owner: str, other: str, pairs: list[tuple[str, str]]) -> None:
        stmt = delete(table).where(and_(table.c[owner] == bindparam("_owner"),
                                        table.c[other] == bindparam("_other")))
        self.conn.execute(stmt, [{"_owner": a, "_other": b} for a, b in pairs])

    # -- menus

    def write_menu_items(self) -> None:
        for e in self.fixture.upserts("menu"):
            current = _menu_tree(self.state.menu_items.get(e.id, []))
            wanted = tuple(item.normalised() for item in e.items)
            if current == wanted:
                continue
            self.delete_menu_items(self.state.menu_items.get(e.id, []))
            self.insert_menu_items(e.id, None, e.items)
            self.changed.add(("menu", e.id))

    def delete_menu_items(self, rows: list[dict[str, Any]]) -> None:
        """Deepest first: each row is deleted by us (in the change log), never by a cascade."""
        table = _table("menu_items")
        parents = {r["id"]: r["parent_id"] for r in rows}

        def depth(item_id: int) -> int:
            d = 0
            while parents.get(item_id) is not None:
                d, item_id = d + 1, parents[item_id]
            return d

        for item_id in sorted(parents, key=depth, reverse=True):
            self.conn.execute(delete(table).where(table.c.id == item_id))

    def insert_menu_items(self, menu_id: str, parent_id: int | None, items: list[MenuItemEntry]) -> None:
        table = _table("menu_items")
        for position, item in enumerate(items):
            item_id = self.conn.execute(insert(table).values(
                menu_id=menu_id, parent_id=parent_id, position=position, title=item.title, url=item.url,
                target_type=item.target_type, target_id=item.target_id).returning(table.c.id)).scalar_one()
            self.insert_menu_items(menu_id, item_id, item.children)

    # -- deletions

    def delete_objects(self, type_: str) -> int:
        ids = [i for i in self.world.deleted[type_] if i in self.state.rows[type_]]
        if not ids:
            return 0
        if type_ in ("page", "category"):
            ids.sort(key=lambda i: self.depth_in_db(type_, i), reverse=True)  # children first
        else:
            ids.sort()
        if type_ == "menu":
            for menu_id in ids:
                self.delete_menu_items(self.state.menu_items.get(menu_id, []))
        if type_ in LOCALIZED:
            self.delete_localizations(type_, ids)
        self.delete_dependent_rows(type_, ids)
        table = _table(TYPE_TABLES[type_])
        if type_ in ("page", "category"):
            for id_ in ids:  # one by one, in depth order: never a cascade on a child row
                self.conn.execute(delete(table).where(table.c.id == id_))
        else:
            for chunk in _chunks(ids):
                self.conn.execute(delete(table).where(table.c.id.in_(chunk)))
        return len(ids)

    def depth_in_db(self, type_: str, id_: str) -> int:
        rows, depth, seen = self.state.rows[type_], 0, {id_}
        parent = rows[id_]["parent_id"]
        while parent is not None and parent in rows and parent not in seen:
            seen.add(parent)
            depth, parent = depth + 1, rows[parent]["parent_id"]
        return depth

    def delete_localizations(self, type_: str, ids: list[str]) -> None:
        locs, blocks = _table("localizations"), _table("blocks")
        for chunk in _chunks(ids):
            loc_ids = select(locs.c.id).where(locs.c.about_type == type_, locs.c.about_id.in_(chunk))
            self.conn.execute(delete(blocks).where(blocks.c.localization_id.in_(loc_ids)))
            self.conn.execute(delete(locs).where(locs.c.about_type == type_, locs.c.about_id.in_(chunk)))

    def delete_dependent_rows(self, type_: str, ids: list[str]) -> None:
        """Rows that point at the deleted objects, removed or cleared by us (so that they are
        in the change log) rather than by a foreign-key action."""
        joins: dict[str, list[tuple[str, str]]] = {
            "post": [("post_categories", "post_id"), ("post_authors", "post_id")],
            "page": [("page_categories", "page_id")],
            "person": [("post_authors", "person_id")],
            "category": [("post_categories", "category_id"), ("page_categories", "category_id")],
        }
        for table_name, column in joins.get(type_, []):
            table = _table(table_name)
            for chunk in _chunks(ids):
                self.conn.execute(delete(table).where(table.c[column].in_(chunk)))
        if type_ == "media":
            for table_name, column in (("people", "image_id"), ("organizations", "logo_id"), ("posts", "image_id")):
                table = _table(table_name)
                for chunk in _chunks(ids):
                    self.conn.execute(update(table).where(table.c[column].in_(chunk)).values({column: None}))


def _differs(wanted: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    return any(not _same(value, old.get(key)) for key, value in wanted.items())


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        # JSON columns: compare as JSON would store them (key order is irrelevant).
        return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    return a == b


def _menu_tree(rows: list[dict[str, Any]]) -> tuple:
    children: dict[int | None, list[dict[str, Any]]] = {}
    for r in rows:
        children.setdefault(r["parent_id"], []).append(r)

    def build(parent: int | None) -> tuple:
        ordered = sorted(children.get(parent, []), key=lambda r: (r["position"], r["id"]))
        return tuple((r["title"], r["url"], r["target_type"], r["target_id"], build(r["id"])) for r in ordered)

    return build(None)


# ----------------------------------------------------------------------------- entry points


def check_schema(conn: Connection) -> None:
    """A clear error, rather than a SQL one, when the database was never migrated."""
    if not inspect(conn).has_table("change_log") or not inspect(conn).has_table("websites"):
        raise ConfigurationError("the CMS database has no schema yet: run `osuny-pipeline db upgrade` first")


def load_fixture(target: Engine | Session | Connection, fixture: Mapping[str, Any], *,
                 base_dir: str | Path | None = None) -> LoadSummary:
    """Validate a whole fixture, then write it in one transaction.

    `target`: an Engine (this function commits), or a Session/Connection whose transaction
    the caller owns. `base_dir`: where relative repository paths are resolved from (the
    fixture file's folder; the working directory by default). Raises `FixtureError`
    before any write when the fixture is invalid."""
    parsed = parse_fixture(fixture, Path(base_dir or Path.cwd()).resolve())
    if isinstance(target, Engine):
        with target.begin() as conn:
            return _load(conn, parsed)
    if isinstance(target, Session):
        return _load(target.connection(), parsed)
    return _load(target, parsed)


def _load(conn: Connection, parsed: Fixture) -> LoadSummary:
    check_schema(conn)
    state = DbState.read(conn, parsed)
    world = check_references(parsed, state)
    return _Writer(conn, parsed, state, world).run()


def load_fixture_file(target: Engine | Session | Connection, path: str | Path) -> LoadSummary:
    """Load one fixture file; relative repository paths are relative to its folder."""
    path = Path(path)
    data = read_fixture_file(path)
    try:
        return load_fixture(target, data, base_dir=path.resolve().parent)
    except FixtureError as exc:
        raise FixtureError(f"{path}: {exc}") from None

"""Path and URL rules of Osuny's Hugo layout, and the one check every path goes through.

Pure functions of strings: the renderer decides *whether* an owner has a file and with
which slugs; this module decides *where* it goes and refuses anything that could escape
the folders the pipeline owns."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from osuny_pipeline.errors import OsunyError

OWNED_ROOTS = ("content", "data", "config")
SLUG_MAX_LENGTH = 100  # Osuny cuts generated slugs at 100 characters
LANGUAGES_CONFIG_PATH = "config/_default/languages.yaml"

# Section slugs and titles per language (Osuny translates its special pages).
SECTION_SLUGS: dict[str, dict[str, str]] = {
    "fr": {"posts": "actualites", "persons": "equipe", "organizations": "organisations"},
    "en": {"posts": "news", "persons": "team", "organizations": "organizations"},
}
DEFAULT_SECTION_SLUGS = {"posts": "posts", "persons": "persons", "organizations": "organizations"}
SECTION_TITLES: dict[str, dict[str, str]] = {
    "fr": {"posts": "Actualités", "persons": "Équipe", "organizations": "Organisations"},
    "en": {"posts": "News", "persons": "Team", "organizations": "Organizations"},
}
DEFAULT_SECTION_TITLES = {"posts": "Posts", "persons": "People", "organizations": "Organizations"}
CATEGORY_KINDS = ("posts", "pages", "persons", "organizations")

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_NOT_MEDIA_ID = re.compile(r"[^A-Za-z0-9-]+")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")


class UnsafePathError(OsunyError):
    """A computed path would leave the pipeline's folders; the renderer wraps it in a RenderError."""


def parameterize(text: str | None, max_length: int = SLUG_MAX_LENGTH) -> str:
    """Osuny's `parameterize`: ASCII (accents folded, the rest dropped), lowercase, runs of
    anything else -> '-', trimmed. "Colloque « Les vacances et l’animation »" ->
    "colloque-les-vacances-et-lanimation"."""
    if not text:
        return ""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-")


def first_slug(*candidates: str | None) -> str:
    """The first candidate that parameterizes to something (slug, then title, then id)."""
    for candidate in candidates:
        slug = parameterize(candidate)
        if slug:
            return slug
    return ""


def media_file_id(media_id: str) -> str:
    """A media id as a file name: only [A-Za-z0-9-] kept (uuids pass unchanged)."""
    return _NOT_MEDIA_ID.sub("-", media_id).strip("-")[:SLUG_MAX_LENGTH]


def is_valid_language(code: str) -> bool:
    return bool(_LANGUAGE.fullmatch(code))


def assert_safe_path(path: str) -> str:
    """Return `path` if it stays inside content/, data/ or config/; raise otherwise.

    Every path the renderer returns goes through here, whatever built it."""
    problem = _path_problem(path)
    if problem:
        raise UnsafePathError(f"unsafe path {path[:200]!r}: {problem}")
    return path


def _path_problem(path: str) -> str | None:
    if not isinstance(path, str) or not path:
        return "empty"
    if "\\" in path:
        return "contains a backslash"
    if "\x00" in path:
        return "contains a NUL"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        return "contains a control character"
    segments = path.split("/")
    if segments[0] not in OWNED_ROOTS:
        return f"outside {', '.join(r + '/' for r in OWNED_ROOTS)}"
    for segment in segments:
        if segment == "":
            return "has an empty segment"
        if segment in (".", ".."):
            return f"has a {segment!r} segment"
        if segment.lower() == ".git":
            return "has a .git segment"
    return None


# --------------------------------------------------------------------------- sections


def section_slug(section: str, lang: str) -> str:
    return SECTION_SLUGS.get(lang, DEFAULT_SECTION_SLUGS)[section]


def section_title(section: str, lang: str) -> str:
    return SECTION_TITLES.get(lang, DEFAULT_SECTION_TITLES)[section]


# --------------------------------------------------------------------------- URLs


def language_prefix(lang: str, default_language: str) -> str:
    """The default language lives at the root, the others under /<lang>."""
    return "" if lang == default_language else f"/{lang}"


def url_from_segments(prefix: str, segments: list[str]) -> str:
    return prefix + "/" + "".join(f"{s}/" for s in segments)


def post_file_stem(local_date: datetime, slug: str) -> str:
    return f"{local_date:%Y-%m-%d}-{slug}"


# --------------------------------------------------------------------------- files
# `hugo_path` is Osuny's meta.hugo.path: the file relative to content/<lang>, without the
# extension nor `_index`, starting with "/".


def home_file(lang: str) -> tuple[str, str]:
    return f"content/{lang}/_index.html", "/"


def page_file(lang: str, slugs: list[str]) -> tuple[str, str]:
    joined = "/".join(slugs)
    return f"content/{lang}/pages/{joined}/_index.html", f"/pages/{joined}"


def post_file(lang: str, local_date: datetime, slug: str) -> tuple[str, str]:
    stem = post_file_stem(local_date, slug)
    return f"content/{lang}/posts/{local_date:%Y}/{stem}.html", f"/posts/{local_date:%Y}/{stem}"


def category_file(lang: str, kind: str, slugs: list[str]) -> tuple[str, str]:
    joined = "/".join(slugs)
    return f"content/{lang}/{kind}_categories/{joined}/_index.html", f"/{kind}_categories/{joined}"


def leaf_file(lang: str, section: str, slug: str) -> tuple[str, str]:
    """People and organizations: one file per object in its section folder."""
    return f"content/{lang}/{section}/{slug}.html", f"/{section}/{slug}"


def section_file(lang: str, section: str) -> tuple[str, str]:
    return f"content/{lang}/{section}/_index.html", f"/{section}"


def website_data_file(lang: str) -> str:
    return f"data/website/{lang}.yml"


def menu_file(lang: str, identifier: str) -> str:
    return f"data/menus/{lang}/{identifier}.yml"


def media_file(file_id: str) -> str:
    return f"data/media/{file_id[:2]}/{file_id}.yml"

"""The two identities every phase speaks: objects and file owners.

* `ObjectRef(type, id)`: a CMS object at object granularity (all its languages).
  Types: website, page, post, category, menu, person, organization, media, block.
* `FileOwner(about_type, about_id, language)`: what one git_file renders. A localized
  object has one owner per language; media, menus and the languages config use
  language "" (a menu carries its own language).

Owner kinds and their files (render/paths.py has the rules):

| about_type      | about_id        | language | file                                             |
|-----------------|-----------------|----------|--------------------------------------------------|
| page            | page id         | lang     | content/<lang>/_index.html or pages/.../_index.html |
| post            | post id         | lang     | content/<lang>/posts/YYYY/YYYY-MM-DD-<slug>.html |
| category        | category id     | lang     | content/<lang>/<kind>_categories/<slugs>/_index.html |
| person          | person id       | lang     | content/<lang>/persons/<slug>.html               |
| organization    | organization id | lang     | content/<lang>/organizations/<slug>.html         |
| section         | posts/persons/organizations | lang | content/<lang>/<section>/_index.html      |
| website         | website id      | lang     | data/website/<lang>.yml                          |
| website_config  | website id      | ""       | config/_default/languages.yaml                   |
| menu            | menu id         | ""       | data/menus/<lang>/<identifier>.yml               |
| media           | media id        | ""       | data/media/<id[:2]>/<id>.yml                     |
"""

from __future__ import annotations

from typing import NamedTuple

DIRECT_TYPES = frozenset({"website", "page", "post", "category", "menu"})
INDIRECT_TYPES = frozenset({"person", "organization", "media", "block"})
LOCALIZED_TYPES = frozenset({"page", "post", "category", "person", "organization"})
SECTIONS = ("posts", "persons", "organizations")


class ObjectRef(NamedTuple):
    type: str
    id: str

    def __str__(self) -> str:
        return f"{self.type}:{self.id}"


class FileOwner(NamedTuple):
    about_type: str
    about_id: str
    language: str = ""

    def __str__(self) -> str:
        suffix = f" ({self.language})" if self.language else ""
        return f"{self.about_type}:{self.about_id}{suffix}"

    @property
    def object(self) -> ObjectRef | None:
        """The CMS object this file renders, when it is one."""
        if self.about_type in LOCALIZED_TYPES or self.about_type in ("menu", "media", "website"):
            return ObjectRef(self.about_type, self.about_id)
        if self.about_type == "website_config":
            return ObjectRef("website", self.about_id)
        return None

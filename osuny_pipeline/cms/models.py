"""SQLAlchemy 2.0 models of the CMS database.

Two families live here:

* **content** (what an editor saves): websites, pages, posts, categories, people,
  organizations, media, menus, their localizations and blocks. Every write to these
  tables is recorded in ``change_log`` by database triggers (see ``changelog.py``), so
  any writer is seen, not only this ORM.
* **pipeline state** (what the three phases write): connections, git_files with their
  content-addressed contents and the objects each render read, per-website sync state
  and lease locks. These tables have no triggers: writing them is not a content change.

Object ids are the stable string ids of the fixture format (``../shared/FIXTURES.md``).
A file's *owner* is ``(about_type, about_id, language)``: a localization is an object in
one language; files that are not localized (media, a menu, the languages config) use
``language = ""`` (never NULL, so the UNIQUE key holds).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Named constraints so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as UTC on every backend.

    SQLite has no time zones: without this, a value read back is naive and comparisons
    with aware datetimes fail. Naive input is refused rather than guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# --------------------------------------------------------------------------- content


class Website(Base):
    __tablename__ = "websites"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)  # stable key, also the Dagster partition
    name: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text, default="")
    repository: Mapped[str] = mapped_column(Text)  # any git URL or path
    branch: Mapped[str] = mapped_column(String(255), default="main")
    languages: Mapped[list[str]] = mapped_column(JSONType)  # the first is the default language
    # NAME of an environment variable (or file:/path) holding the token: never the secret itself.
    credentials: Mapped[str | None] = mapped_column(String(255), default=None)
    # Rendering converts dates to this zone, never to the process's: output is reproducible.
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")

    @property
    def default_language(self) -> str:
        return self.languages[0]


class Medium(Base):
    __tablename__ = "media"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(255), default="application/octet-stream")
    size: Mapped[int | None] = mapped_column(BigInteger, default=None)
    width: Mapped[int | None] = mapped_column(Integer, default=None)
    height: Mapped[int | None] = mapped_column(Integer, default=None)
    url: Mapped[str] = mapped_column(Text, default="")


class Person(Base):
    __tablename__ = "people"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    image_id: Mapped[str | None] = mapped_column(ForeignKey("media.id", ondelete="SET NULL"), default=None)


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    logo_id: Mapped[str | None] = mapped_column(ForeignKey("media.id", ondelete="SET NULL"), default=None)


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    website_id: Mapped[str] = mapped_column(ForeignKey("websites.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # posts | pages | persons | organizations
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL"), default=None, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class Page(Base):
    __tablename__ = "pages"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    website_id: Mapped[str] = mapped_column(ForeignKey("websites.id", ondelete="CASCADE"), index=True)
    # The website's page without parent is its home page.
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("pages.id", ondelete="SET NULL"), default=None, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class Post(Base):
    __tablename__ = "posts"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    website_id: Mapped[str] = mapped_column(ForeignKey("websites.id", ondelete="CASCADE"), index=True)
    image_id: Mapped[str | None] = mapped_column(ForeignKey("media.id", ondelete="SET NULL"), default=None)


class PostCategory(Base):
    __tablename__ = "post_categories"

    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    category_id: Mapped[str] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class PostAuthor(Base):
    __tablename__ = "post_authors"

    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[str] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class PageCategory(Base):
    __tablename__ = "page_categories"

    page_id: Mapped[str] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"), primary_key=True)
    category_id: Mapped[str] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class Menu(Base):
    __tablename__ = "menus"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    website_id: Mapped[str] = mapped_column(ForeignKey("websites.id", ondelete="CASCADE"), index=True)
    identifier: Mapped[str] = mapped_column(String(255))  # data/menus/<lang>/<identifier>.yml
    language: Mapped[str] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(Text, default=None)

    __table_args__ = (UniqueConstraint("website_id", "language", "identifier"),)


class MenuItem(Base):
    __tablename__ = "menu_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    menu_id: Mapped[str] = mapped_column(ForeignKey("menus.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("menu_items.id", ondelete="CASCADE"), default=None
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text, default=None)  # an external link...
    target_type: Mapped[str | None] = mapped_column(String(32), default=None)  # ...or an object
    target_id: Mapped[str | None] = mapped_column(String(255), default=None)

    __table_args__ = (Index("ix_menu_items_target", "target_type", "target_id"),)


class Localization(Base):
    """An object in one language. One table for every type keeps the change log, the
    dependency walk and file ownership uniform; type-specific fields are nullable."""

    __tablename__ = "localizations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    about_type: Mapped[str] = mapped_column(String(32))  # page | post | category | person | organization
    about_id: Mapped[str] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(Text, default=None)  # title, or a category's/organization's name
    slug: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str | None] = mapped_column(Text, default=None)
    text: Mapped[str | None] = mapped_column(Text, default=None)  # body, a person's biography
    first_name: Mapped[str | None] = mapped_column(Text, default=None)
    last_name: Mapped[str | None] = mapped_column(Text, default=None)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    blocks: Mapped[list[Block]] = relationship(
        back_populates="localization", order_by="Block.position", cascade="all, delete-orphan",
        passive_deletes=True,
    )

    __table_args__ = (UniqueConstraint("about_type", "about_id", "language"),)


class Block(Base):
    """A content block, rendered inside its localization's file (a block has no file)."""

    __tablename__ = "blocks"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    localization_id: Mapped[int] = mapped_column(ForeignKey("localizations.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    template: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    published: Mapped[bool] = mapped_column(Boolean, default=True)

    localization: Mapped[Localization] = relationship(back_populates="blocks")


class ChangeLog(Base):
    """The outbox: one row per insert, update or delete of a content row, written by
    triggers in the writer's transaction. Read by id (monotonic, never reused)."""

    __tablename__ = "change_log"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    table_name: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[str] = mapped_column(Text)
    operation: Mapped[str] = mapped_column(String(8))  # INSERT | UPDATE | DELETE
    about_type: Mapped[str | None] = mapped_column(String(32))  # the object the row belongs to
    about_id: Mapped[str | None] = mapped_column(String(255))
    website_id: Mapped[str | None] = mapped_column(String(63), index=True)  # NULL: indirect object
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.current_timestamp())

    # AUTOINCREMENT on SQLite: ids of deleted rows are never reused, so cursors stay valid.
    __table_args__ = {"sqlite_autoincrement": True}


# --------------------------------------------------------------------------- pipeline state


class Connection(Base):
    """A website shows an indirect object *because* a direct source depends on it."""

    __tablename__ = "connections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    website_id: Mapped[str] = mapped_column(ForeignKey("websites.id", ondelete="CASCADE"))
    indirect_type: Mapped[str] = mapped_column(String(32))
    indirect_id: Mapped[str] = mapped_column(String(255))
    source_type: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(String(255))

    __table_args__ = (
        UniqueConstraint("website_id", "indirect_type", "indirect_id", "source_type", "source_id"),
        Index("ix_connections_indirect", "indirect_type", "indirect_id"),
        Index("ix_connections_source", "website_id", "source_type", "source_id"),
    )


class GitContent(Base):
    """Rendered contents, content-addressed by git blob SHA and zlib-compressed:
    identical files (across websites too) are stored once."""

    __tablename__ = "git_contents"

    sha: Mapped[str] = mapped_column(String(40), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class GitFile(Base):
    """The contract between phases (DESIGN.md §3): one row per (website, owner)."""

    __tablename__ = "git_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    website_id: Mapped[str] = mapped_column(ForeignKey("websites.id", ondelete="CASCADE"))
    about_type: Mapped[str] = mapped_column(String(32))
    about_id: Mapped[str] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(16), default="")
    # What the remote has (last pushed, or refreshed from the remote tree).
    previous_path: Mapped[str | None] = mapped_column(Text, default=None)
    previous_sha: Mapped[str | None] = mapped_column(String(40), default=None)
    # The latest render; current_path NULL (once generated) = to delete.
    current_path: Mapped[str | None] = mapped_column(Text, default=None)
    current_sha: Mapped[str | None] = mapped_column(String(40), default=None)
    # Last render that changed something. NULL = never rendered: sync must never touch it.
    generated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Since when it waits for sync (the FIRST desync time while pending). NULL = in sync.
    desynchronized_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Identification asks for a render; generation clears it. NULL = nothing to render.
    identified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Lineage: the run that made the current render, the commit that pushed it.
    rendered_run_id: Mapped[str | None] = mapped_column(String(64), default=None)
    synced_commit: Mapped[str | None] = mapped_column(String(40), default=None)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # A render or path that failed: the file keeps its last good state, the error says why.
    error: Mapped[str | None] = mapped_column(Text, default=None)
    error_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    __table_args__ = (
        UniqueConstraint("website_id", "about_type", "about_id", "language"),
        # The sync's queue: generated, desynchronized files of a website, oldest first.
        Index(
            "ix_git_files_pending", "website_id", "desynchronized_at",
            postgresql_where=text("desynchronized_at IS NOT NULL"),
            sqlite_where=text("desynchronized_at IS NOT NULL"),
        ),
        Index(
            "ix_git_files_identified", "website_id",
            postgresql_where=text("identified_at IS NOT NULL"),
            sqlite_where=text("identified_at IS NOT NULL"),
        ),
        Index("ix_git_files_about", "about_type", "about_id"),
        Index("ix_git_files_current_path", "website_id", "current_path"),
    )

    @property
    def owner(self) -> tuple[str, str, str]:
        return (self.about_type, self.about_id, self.language)


class GitFileDependency(Base):
    """The objects a file's last render read. Its reverse is exact references: when an
    object changes or disappears, every file that showed it is re-rendered."""

    __tablename__ = "git_file_dependencies"

    git_file_id: Mapped[int] = mapped_column(ForeignKey("git_files.id", ondelete="CASCADE"), primary_key=True)
    about_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    about_id: Mapped[str] = mapped_column(String(255), primary_key=True)

    __table_args__ = (Index("ix_git_file_dependencies_about", "about_type", "about_id"),)


class Permalink(Base):
    """Every URL a file has had. Previous ones become Hugo `aliases`, so a rename (slug or
    parent change) keeps old links working."""

    __tablename__ = "permalinks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    website_id: Mapped[str] = mapped_column(ForeignKey("websites.id", ondelete="CASCADE"))
    about_type: Mapped[str] = mapped_column(String(32))
    about_id: Mapped[str] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(16), default="")
    url: Mapped[str] = mapped_column(Text)
    current: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (
        Index("ix_permalinks_owner", "website_id", "about_type", "about_id", "language"),
    )


class WebsiteState(Base):
    """Per-website pipeline bookkeeping, apart from `websites` so that writing it is
    not a content change."""

    __tablename__ = "website_states"

    website_id: Mapped[str] = mapped_column(ForeignKey("websites.id", ondelete="CASCADE"), primary_key=True)
    # Identification has consumed the change log up to this id for this website.
    identified_change_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_identified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_generated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Start of the last sync: files desynchronized before it are taken (Osuny's last_sync_at).
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_commit_sha: Mapped[str | None] = mapped_column(String(40), default=None)
    last_commit_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_rebuild_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Paths under content/ and data/ on the remote that no git_file owns (never deleted).
    orphans: Mapped[list[str]] = mapped_column(JSONType, default=list)


class WebsiteLock(Base):
    """A lease: one writer per website. A live worker renews it; a crashed one's lease
    expires, so a site is never blocked forever (Osuny's lock had no expiry)."""

    __tablename__ = "website_locks"

    website_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


CONTENT_TABLES = (
    "websites", "media", "people", "organizations", "categories", "pages", "posts",
    "post_categories", "post_authors", "page_categories", "menus", "menu_items",
    "localizations", "blocks",
)

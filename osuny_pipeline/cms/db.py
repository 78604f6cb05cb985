"""Engines and sessions for the CMS database: one engine per process and URL."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from osuny_pipeline import config
from osuny_pipeline.errors import ConfigurationError, mask_url


def _normalise(url: str) -> str:
    """A bare postgresql:// URL means psycopg 3 here (the faster driver for our upserts)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


# SQLite stores whatever bytes a raw SQL writer gives it as TEXT; sqlite3's default decoding
# then fails the whole query ("Could not decode to UTF-8"), i.e. every file of the website.
# Invalid sequences become U+FFFD instead: the object renders, the others are untouched.
_decode_text = functools.partial(str, encoding="utf-8", errors="replace")


def _on_sqlite_connect(dbapi_connection, _record) -> None:
    dbapi_connection.text_factory = _decode_text
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets readers (status, sensors) run while a phase writes; busy_timeout makes
    # concurrent writers wait instead of failing at once with "database is locked".
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@functools.cache
def engine_for(url: str) -> Engine:
    try:
        parsed = make_url(_normalise(url))
    except ArgumentError:
        raise ConfigurationError(f"OSUNY_DATABASE_URL is not a database URL: {mask_url(url)!r}") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30})
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    try:
        return create_engine(parsed, pool_pre_ping=True)
    except Exception as exc:  # unknown driver and the like
        raise ConfigurationError(f"cannot use database {mask_url(url)}: {exc}") from None


def get_engine(url: str | None = None) -> Engine:
    return engine_for(url or config.database_url())


def check_connection(engine: Engine) -> None:
    """Fail with one clear line (password masked) when the database is unreachable."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ConfigurationError(
            f"cannot reach the CMS database {mask_url(engine.url.render_as_string(hide_password=True))}: "
            f"{mask_url(reason)}"
        ) from None


def require_schema(engine: Engine) -> None:
    """Fail with one line when the database was never migrated."""
    if not inspect(engine).has_table("alembic_version"):
        raise ConfigurationError(
            f"the CMS database {mask_url(engine.url.render_as_string(hide_password=True))} has no "
            "osuny-pipeline schema: run `osuny-pipeline db upgrade` first"
        )


def open_database(url: str | None = None) -> Engine:
    """The CMS database a command works on: reachable and migrated, or one clear error."""
    engine = get_engine(url)
    check_connection(engine)
    require_schema(engine)
    return engine


@functools.cache
def _sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction: committed on success, rolled back on any error."""
    session = _sessionmaker(engine or get_engine())()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()

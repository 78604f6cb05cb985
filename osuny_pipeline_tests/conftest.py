"""Shared fixtures: real CMS databases (SQLite file and PostgreSQL) at the current schema.

PostgreSQL: the server named by OSUNY_TEST_PG_URL (default: the local trust-auth server).
Each test run migrates one template database, and each test gets a fresh copy of it
(`CREATE DATABASE ... TEMPLATE`), dropped afterwards. When the server is unreachable the
PostgreSQL tests are skipped, unless OSUNY_REQUIRE_PG=1 (set by .ci/run), which makes
them fail.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from osuny_pipeline.cms.db import engine_for
from osuny_pipeline.cms.migrate import upgrade

PG_BASE = os.environ.get("OSUNY_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432").rstrip("/")
REQUIRE_PG = os.environ.get("OSUNY_REQUIRE_PG", "") == "1"


def _admin_engine() -> Engine:
    return create_engine(f"{PG_BASE}/postgres", isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def pg_reachable() -> str | None:
    """None when the server answers, else the reason."""
    try:
        with _admin_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # any driver or network failure
        return str(exc).splitlines()[0]


def require_pg() -> None:
    reason = pg_reachable()
    if reason:
        message = f"PostgreSQL unreachable at {PG_BASE}: {reason}"
        if REQUIRE_PG:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    require_pg()
    name = f"osuny_tmpl_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{PG_BASE}/{name}"
    migrated = create_engine(url)
    upgrade(migrated)
    migrated.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def new_pg_database(template: str) -> str:
    name = f"osuny_test_{uuid.uuid4().hex[:12]}"
    with _admin_engine().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    return name


def drop_pg_database(name: str) -> None:
    with _admin_engine().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "cms.db"
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "cms.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    name = new_pg_database(pg_template)
    url = f"{PG_BASE}/{name}"
    yield url
    engine_for(url).dispose()
    engine_for.cache_clear()
    drop_pg_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated CMS database URL, once per backend."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def engine(db_url: str) -> Engine:
    return engine_for(db_url)


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Engine:
    return engine_for(sqlite_url)


@pytest.fixture
def pg_engine(pg_url: str) -> Engine:
    return engine_for(pg_url)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for running the CLI in-process or as a subprocess against `db_url`."""
    env = {
        "OSUNY_DATABASE_URL": db_url,
        "OSUNY_GIT_CACHE": str(tmp_path / "git-cache"),
        "OSUNY_HOME": str(tmp_path / "osuny-home"),
        "NO_COLOR": "1",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env

"""Commands on a database that was never migrated: one line saying what to do."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text

from osuny_pipeline.cli import main
from osuny_pipeline_tests.conftest import PG_BASE, require_pg

COMMANDS = [["status"], ["identify"], ["generate"], ["sync", "--website", "demo"],
            ["lineage", "--website", "demo", "content/fr/_index.html"], ["rebuild", "--website", "demo"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_an_unmigrated_sqlite_database_is_one_clear_line(command, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OSUNY_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    assert main(command) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert "run `osuny-pipeline db upgrade` first" in err


def test_an_unmigrated_postgresql_database_is_one_clear_line(monkeypatch, capsys):
    require_pg()
    name = f"osuny_empty_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{PG_BASE}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        monkeypatch.setenv("OSUNY_DATABASE_URL", f"{PG_BASE}/{name}")
        assert main(["status"]) == 1
        assert "run `osuny-pipeline db upgrade` first" in capsys.readouterr().err
    finally:
        from osuny_pipeline.cms.db import engine_for

        engine_for(f"{PG_BASE}/{name}").dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

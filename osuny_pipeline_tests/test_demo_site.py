"""The demo website end to end on both databases: a second generation of an unchanged site
writes nothing, the `demo` command run twice makes no second commit, and generation reads
the database per chunk of files, not per file."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pygit2
import pytest
from sqlalchemy import Engine, event, text

from osuny_pipeline import pipeline
from osuny_pipeline.cli import main
from osuny_pipeline.cms.loader import load_fixture, read_fixture_file
from osuny_pipeline.cms.seed import DEMO_PATH
from osuny_pipeline.render.generate import CHUNK, GenerationResult, generate_website

# After every published_at of the demo: the whole site is published, whatever today is.
NOW = datetime(2030, 1, 1, 12, tzinfo=UTC)
GIT_FILE_COLUMNS = ("id", "website_id", "about_type", "about_id", "language", "previous_path", "previous_sha",
                    "current_path", "current_sha", "generated_at", "desynchronized_at", "rendered_run_id",
                    "synced_commit", "synced_at", "error", "error_at")


def demo_fixture() -> dict[str, Any]:
    return read_fixture_file(DEMO_PATH)


def load_demo(engine: Engine, fixture: dict[str, Any] | None = None) -> None:
    load_fixture(engine, copy.deepcopy(fixture or demo_fixture()), base_dir=DEMO_PATH.parent)


def identify_and_generate(engine: Engine, *, now: datetime = NOW, full: bool = False,
                          run_id: str = "run-1") -> GenerationResult:
    pipeline.identify(engine, "demo", now=now, full=full)
    result = generate_website(engine, "demo", now=now, run_id=run_id)
    assert result.failed == {}
    return result


def snapshot(engine: Engine) -> dict[str, list]:
    with engine.connect() as conn:
        return {
            "git_files": conn.execute(text(f"SELECT {', '.join(GIT_FILE_COLUMNS)} FROM git_files ORDER BY id")).all(),
            "git_contents": conn.execute(text("SELECT sha FROM git_contents ORDER BY sha")).all(),
            "reads": conn.execute(text("SELECT git_file_id, about_type, about_id FROM git_file_dependencies "
                                       "ORDER BY 1, 2, 3")).all(),
            "permalinks": conn.execute(text("SELECT id, about_type, about_id, language, url, current "
                                            "FROM permalinks ORDER BY id")).all(),
        }


def test_generating_the_demo_twice_writes_nothing(engine: Engine) -> None:
    load_demo(engine)
    first = identify_and_generate(engine)
    assert first.changed > 700  # the whole demo (fr + en) was written once
    before = snapshot(engine)

    later = NOW + timedelta(hours=1)
    again = identify_and_generate(engine, now=later, full=True, run_id="run-2")

    assert again.rendered == first.rendered
    assert (again.changed, again.deleted, again.changes) == (0, 0, [])
    # Owners that have no file (unpublished in a language...) are asked again by a full
    # identification and dropped again: their rows never persist.
    assert again.dropped == first.dropped
    assert again.unchanged + again.dropped == again.rendered
    after = snapshot(engine)
    for table in before:  # no new content, and no git_files column changed but identified_at
        assert after[table] == before[table], table
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM git_files WHERE identified_at IS NOT NULL")).scalar() == 0


def count_statements(engine: Engine):
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    return statements, lambda: event.remove(engine, "before_cursor_execute", record)


def test_generation_reads_per_chunk_not_per_file(engine: Engine) -> None:
    """Queries grow with the number of chunks, not of files: an unchanged re-generation of
    the ~800-file demo takes a few dozen statements, not thousands."""
    load_demo(engine)
    identify_and_generate(engine)
    pipeline.identify(engine, "demo", now=NOW, full=True)
    statements, stop = count_statements(engine)
    try:
        result = generate_website(engine, "demo", now=NOW, run_id="run-2")
    finally:
        stop()
    assert result.unchanged > 700 and result.changed == 0
    chunks = -(-result.rendered // CHUNK)
    assert len(statements) <= 40 + 25 * chunks, "\n".join(statements[:50])


def demo_head(home: Path) -> str | None:
    repo = pygit2.Repository(str(home / "remotes" / "demo.git"))
    return None if repo.head_is_unborn else str(repo.head.target)


def test_the_demo_command_twice_makes_one_commit(cli_env: dict[str, str], capsys: pytest.CaptureFixture) -> None:
    home = Path(cli_env["OSUNY_HOME"])
    assert main(["demo"]) == 0
    first = capsys.readouterr().out
    assert re.search(r"^sync: commit [0-9a-f]{40}", first, re.M), first
    head = demo_head(home)
    assert head is not None

    assert main(["demo"]) == 0
    second = capsys.readouterr().out
    assert "already up to date, nothing written" in second
    assert re.search(r"^generate: \d+ rendered: 0 changed", second, re.M), second
    assert re.search(r"^sync: no change", second, re.M), second
    assert demo_head(home) == head

"""`osuny-pipeline prepare-demo`: the embedded default, ready to run, idempotently.

Under `config.state_dir()` (`.osuny/`): the CMS database migrated, a bare git
repository `remotes/demo.git` (branch main) standing for the website's remote, and the
demo website (`fixtures/demo.yaml`) loaded with its repository pointing at that bare
repository. A second run changes nothing (the loader writes only differences).
"""

from __future__ import annotations

from pathlib import Path

import pygit2
from sqlalchemy import Engine

from osuny_pipeline import config
from osuny_pipeline.cms.db import check_connection, get_engine
from osuny_pipeline.cms.loader import load_fixture, read_fixture_file
from osuny_pipeline.cms.migrate import current_revision, upgrade
from osuny_pipeline.cms.seed import DEMO_PATH

DEMO_WEBSITE = "demo"


def demo_remote_path(state_dir: Path | None = None) -> Path:
    return (state_dir or config.state_dir()) / "remotes" / f"{DEMO_WEBSITE}.git"


def ensure_bare_remote(path: Path) -> bool:
    """Create a bare repository whose HEAD is main; False when it already exists."""
    if (path / "HEAD").exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    pygit2.init_repository(str(path), bare=True, initial_head="main")
    return True


def demo_fixture(remote: Path) -> dict:
    fixture = read_fixture_file(DEMO_PATH)
    for website in fixture["websites"]:
        if website["id"] == DEMO_WEBSITE:
            website["repository"] = str(remote)
    return fixture


def prepare_demo(state_dir: Path | None = None, engine: Engine | None = None) -> list[str]:
    """Prepare the demo; returns what it did, one line per step."""
    engine = engine or get_engine()
    check_connection(engine)
    lines = []
    before = current_revision(engine)
    upgrade(engine)
    after = current_revision(engine)
    lines.append(f"database: at revision {after}" + (" (up to date)" if before == after else
                                                      f" (migrated from {before or 'empty'})"))
    remote = demo_remote_path(state_dir)
    created = ensure_bare_remote(remote)
    lines.append(f"remote: {'created' if created else 'kept'} bare repository {remote}")
    summary = load_fixture(engine, demo_fixture(remote), base_dir=DEMO_PATH.parent)
    if summary.written:
        lines.append(f"demo website '{DEMO_WEBSITE}' loaded from {DEMO_PATH.name}:")
        lines += [f"  {line}" for line in summary.lines()]
    else:
        lines.append(f"demo website '{DEMO_WEBSITE}': already up to date, nothing written")
    return lines

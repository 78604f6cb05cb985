"""`osuny-pipeline sync`, `rebuild` and `lineage`, in-process against both databases."""

from __future__ import annotations

import json

from osuny_pipeline.cli import main
from osuny_pipeline.cms.db import get_engine
from osuny_pipeline_tests.git.conftest import (
    T0,
    add_website,
    head,
    init_bare,
    push_foreign,
    render,
    row,
    show,
)

POST = ("post", "p1", "fr")
POST_PATH = "content/fr/p1.html"


def test_sync_prints_the_commit_and_lineage_names_it(cli_env, tmp_path, capsys):
    remote = init_bare(tmp_path / "remote.git")
    engine = get_engine()
    add_website(engine, "demo", str(remote))
    render(engine, "demo", POST, POST_PATH, "hello\n", at=T0)
    assert main(["sync", "--website", "demo"]) == 0
    out = capsys.readouterr().out
    assert f"demo: pushed {head(remote)[:12]} (1 added, 0 updated, 0 moved, 0 deleted; 1 commit" in out

    assert main(["sync", "--website", "demo"]) == 0
    assert "demo: no change" in capsys.readouterr().out
    assert main(["sync"]) == 0
    assert "nothing to synchronize" in capsys.readouterr().out

    assert main(["lineage", "--website", "demo", POST_PATH, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["owner"] == "post:p1 (fr)" and info["synced_commit"] == head(remote)
    assert info["about"] == {"type": "post", "id": "p1", "language": "fr"}
    assert info["current_sha"] == row(engine, "demo", POST).current_sha
    assert main(["lineage", "--website", "demo", POST_PATH]) == 0
    assert f"pushed in: {head(remote)}" in capsys.readouterr().out
    assert main(["lineage", "--website", "demo", "content/fr/unknown.html"]) == 1
    assert "no git_file" in capsys.readouterr().err


def test_sync_exits_non_zero_when_a_website_fails(cli_env, tmp_path, capsys):
    good = init_bare(tmp_path / "good.git")
    engine = get_engine()
    add_website(engine, "broken", str(tmp_path / "missing.git"))
    add_website(engine, "good", str(good))
    render(engine, "broken", POST, POST_PATH, "a\n", at=T0)
    render(engine, "good", POST, POST_PATH, "b\n", at=T0)
    assert main(["sync"]) == 1
    out, err = capsys.readouterr()
    assert "good: pushed" in out and show(good, POST_PATH) == "b\n"
    assert "broken: error: website broken: repository" in err
    assert main(["sync", "--website", "nope"]) == 1
    assert "unknown website 'nope'" in capsys.readouterr().err


def test_rebuild_repairs_drift_at_the_next_sync(cli_env, tmp_path, capsys):
    remote = init_bare(tmp_path / "remote.git")
    engine = get_engine()
    add_website(engine, "demo", str(remote))
    render(engine, "demo", POST, POST_PATH, "ours\n", at=T0)
    assert main(["sync", "--website", "demo"]) == 0
    push_foreign(remote, {POST_PATH: "theirs\n", "content/fr/stray.html": "?\n"})
    assert main(["rebuild", "--website", "demo"]) == 0
    out = capsys.readouterr().out
    assert "1 drifted" in out and "orphan: content/fr/stray.html" in out
    assert main(["sync", "--website", "demo"]) == 0
    assert show(remote, POST_PATH) == "ours\n" and show(remote, "content/fr/stray.html") == "?\n"

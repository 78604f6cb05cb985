"""Seed generator and demo fixture: deterministic, realistic sizes, valid, loadable."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from pathlib import Path

import pygit2
import pytest
from sqlalchemy import Engine, event, text

from osuny_pipeline.cli import main
from osuny_pipeline.cms.db import get_engine
from osuny_pipeline.cms.loader import load_fixture, load_fixture_file, read_fixture_file
from osuny_pipeline.cms.seed import (
    DEMO_PATH,
    SCALE_1,
    build_demo_fixture,
    build_fixture,
    dump_fixture,
    dump_fixture_json,
)

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
LIST_TEMPLATES = {"posts", "pages", "persons", "organizations"}


def blocks_of(fixture: dict) -> list[dict]:
    return [b for kind in ("pages", "posts", "people", "organizations", "categories") for e in fixture[kind]
            for loc in e["localizations"].values() for b in loc.get("blocks", [])]


def depth(pages: list[dict], page_id: str) -> int:
    parents = {p["id"]: p["parent"] for p in pages}
    d = 0
    while parents[page_id] is not None:
        d, page_id = d + 1, parents[page_id]
    return d


def count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


def test_seed_is_deterministic():
    one = dump_fixture(build_fixture(2, 0.05, 42))
    assert one == dump_fixture(build_fixture(2, 0.05, 42))
    assert one != dump_fixture(build_fixture(2, 0.05, 43))
    fixture = build_fixture(2, 0.05, 42)
    assert [w["id"] for w in fixture["websites"]] == ["site-001", "site-002"]
    assert all(UUID.fullmatch(m["id"]) for m in fixture["media"])


def test_scale_one_looks_like_a_real_site():
    fixture = build_fixture(1, 1.0, 1)
    sizes = {kind: len(fixture[kind]) for kind in fixture}
    for kind, expected in SCALE_1.items():
        assert sizes[kind] == expected
    assert sizes["categories"] == 30 and sizes["menus"] == 2
    objects = sum(sizes.values())
    assert 3400 <= objects <= 4000, sizes  # the reference site has ~3,700 files
    # Scale is linear: 5 -> ~18k, 12 -> ~44k objects (files).
    assert 17_000 <= sum(SCALE_1.values()) * 5 <= 22_000
    assert {depth(fixture["pages"], p["id"]) for p in fixture["pages"]} == {0, 1, 2, 3}
    templates = Counter(b["template"] for b in blocks_of(fixture))
    assert set(templates) == {"chapter", "title", "image", "call_to_action", "key_figures", *LIST_TEMPLATES}
    assert any(b["data"].get("mode") == "category" for b in blocks_of(fixture) if b["template"] == "posts")
    texts = [len(loc["blocks"][0]["data"]["text"]) for post in fixture["posts"]
             for loc in post["localizations"].values()]
    assert 400 <= statistics.median(texts) <= 3000


def test_seed_loads_and_reloads_without_writing(engine, tmp_path):
    fixture = build_fixture(2, 0.03, 7, languages=["fr", "en"], remote_dir=str(tmp_path / "remotes"))
    summary = load_fixture(engine, fixture)
    assert summary.of("websites").created == 2
    assert count(engine, "SELECT COUNT(*) FROM websites WHERE repository LIKE '%/remotes/site-002.git'") == 1
    before = count(engine, "SELECT COUNT(*) FROM change_log")
    assert not load_fixture(engine, fixture).written
    assert count(engine, "SELECT COUNT(*) FROM change_log") == before


def test_a_real_size_site_loads_in_bulk(sqlite_engine, tmp_path):
    """~3,700 objects load with bulk statements, not one query per object (times are
    measured by bench/, never asserted: the machines are noisy)."""
    path = tmp_path / "seed.json"
    path.write_text(dump_fixture_json(build_fixture(1, 1.0, 3)), encoding="utf-8")
    statements: list[str] = []
    event.listen(sqlite_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    load_fixture_file(sqlite_engine, path)
    first = len(statements)
    assert not load_fixture_file(sqlite_engine, path).written
    second = len(statements) - first
    assert first < 500 and second < 200, (first, second)


def test_seed_cli_writes_the_same_bytes_and_loads(cli_env, tmp_path, capsys):
    out = tmp_path / "seed.yaml"
    args = ["seed", "--websites", "1", "--scale", "0.02", "--seed", "5", "--out", str(out),
            "--remote-dir", str(tmp_path / "r")]
    assert main(args) == 0
    first = out.read_bytes()
    assert main(args) == 0
    assert out.read_bytes() == first
    assert read_fixture_file(out)["websites"][0]["repository"] == str(tmp_path / "r" / "site-001.git")
    capsys.readouterr()
    assert main(["seed", "--websites", "1", "--scale", "0.02", "--seed", "5", "--load"]) == 0
    assert "pages: " in capsys.readouterr().out
    assert count(get_engine(), "SELECT COUNT(*) FROM websites") == 1


def test_committed_demo_is_the_generator_output():
    assert DEMO_PATH.read_text(encoding="utf-8") == dump_fixture(build_demo_fixture()), \
        "regenerate it: python -m osuny_pipeline.cms.seed --write-demo"


def test_demo_meets_its_counts():
    demo = build_demo_fixture()
    assert [(w["id"], w["languages"]) for w in demo["websites"]] == [("demo", ["fr", "en"])]
    assert len(demo["pages"]) >= 40
    assert max(depth(demo["pages"], p["id"]) for p in demo["pages"]) == 3  # home and 3 levels below it
    counts = {kind: len(demo[kind]) for kind in ("posts", "categories", "people", "organizations")}
    assert counts == {"posts": 200, "categories": 10, "people": 60, "organizations": 20}
    assert len(demo["media"]) > 0
    assert {(m["identifier"], m["language"]) for m in demo["menus"]} == {
        ("primary", "fr"), ("primary", "en"), ("legal", "fr"), ("legal", "en")}
    blocks = blocks_of(demo)
    assert LIST_TEMPLATES <= {b["template"] for b in blocks}
    assert any(b["template"] == "posts" and b["data"].get("mode") == "category" for b in blocks)
    assert any(b["template"] == "pages" and b["data"].get("mode") == "children" for b in blocks)
    assert all(set(e["localizations"]) == {"fr", "en"} for e in demo["pages"] + demo["posts"])
    assert any("é" in p["localizations"]["fr"]["title"] for p in demo["pages"])


def test_prepare_demo_is_idempotent(cli_env, capsys):
    home = Path(cli_env["OSUNY_HOME"])
    assert main(["prepare-demo"]) == 0
    first = capsys.readouterr().out
    assert "posts: 200 created" in first
    remote = home / "remotes" / "demo.git"
    repo = pygit2.Repository(str(remote))
    assert repo.is_bare and repo.references["HEAD"].target == "refs/heads/main"
    engine = get_engine()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT repository FROM websites WHERE id = 'demo'")).scalar_one() == str(remote)
    before = count(engine, "SELECT COUNT(*) FROM change_log")
    assert main(["prepare-demo"]) == 0
    second = capsys.readouterr().out
    assert "nothing written" in second and "kept bare repository" in second
    assert count(engine, "SELECT COUNT(*) FROM change_log") == before


@pytest.mark.parametrize("bad", [["--websites", "0"], ["--scale", "0"]])
def test_seed_rejects_nonsense_sizes(bad, capsys):
    assert main(["seed", *bad]) == 1
    assert "seed:" in capsys.readouterr().err

"""Rendering is a pure function of the database: same bytes under other locales, time
zones and hash seeds (run in subprocesses), and a throughput figure (printed, never asserted)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy.orm import Session

from osuny_pipeline.render import SiteRenderer
from osuny_pipeline.render.renderer import render_template
from osuny_pipeline_tests.render.builders import AS_OF, demo_owners, render_all_owners

ROOT = Path(__file__).resolve().parents[2]

RENDER_SCRIPT = """
import hashlib, json, sys
from sqlalchemy.orm import Session
from osuny_pipeline.cms.db import engine_for
from osuny_pipeline.render import SiteRenderer
from osuny_pipeline_tests.render.builders import AS_OF, demo_owners, render_all_owners
with Session(engine_for(sys.argv[1])) as session:
    out = {owner: [path, hashlib.sha1(data).hexdigest() if data else None]
           for owner, (path, data) in render_all_owners(session).items()}
print(json.dumps(out, sort_keys=True))
"""

ENVIRONMENTS = [
    {"LC_ALL": "C", "TZ": "UTC", "PYTHONHASHSEED": "0"},
    {"LC_ALL": "C.UTF-8", "TZ": "Pacific/Kiritimati", "PYTHONHASHSEED": "12345"},
    {"LC_ALL": "POSIX", "TZ": "America/Los_Angeles", "PYTHONHASHSEED": "random"},
]


def digests(rendered: dict) -> dict:
    return {owner: [path, hashlib.sha1(data).hexdigest() if data else None]
            for owner, (path, data) in rendered.items()}


def test_same_bytes_under_other_locales_time_zones_and_hash_seeds(demo: Session, db_url: str):
    expected = digests(render_all_owners(demo))
    assert all(path for path, _ in expected.values())
    for extra in ENVIRONMENTS:
        env = {**os.environ, **extra, "PYTHONPATH": str(ROOT)}
        result = subprocess.run([sys.executable, "-c", RENDER_SCRIPT, db_url], env=env, cwd=ROOT,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == expected, f"different output under {extra}"


def test_rendering_twice_gives_the_same_bytes(demo: Session):
    assert render_all_owners(demo) == render_all_owners(demo)


def test_throughput_is_printed(demo: Session, capsys):
    """Pure template rendering (context -> bytes) and full renders (DB reads included)."""
    context = {
        "title": "Colloque « Les vacances »", "url": "/actualites/2025-01-07-colloque/", "slug": "colloque",
        "aliases": ["/old/"], "date": None, "published_at": None,
        "hugo": {"permalink": "/actualites/2025-01-07-colloque/", "path": "/posts/2025/2025-01-07-colloque",
                 "file": "content/fr/posts/2025/2025-01-07-colloque.html", "slug": "colloque"},
        "search": {"id": "post-p1-fr", "about_id": "p1", "url": "/x/", "kind": "k", "lang": "fr", "title": "t",
                   "summary": "s", "body": "b"},
        "breadcrumbs": [{"title": "Accueil", "path": "/"}, {"title": "t", "path": None}],
        "authors": ["ada-lovelace"], "translation_key": "communication-website-post-p1", "image": None,
        "summary": "Un colloque", "text": None, "categories": [], "categories_label": "Catégories",
        "reading_time": {"seconds": 1, "text": "moins d'une minute"},
        "contents": [{"template": "chapter", "title": None, "slug": None, "text": "<p>Le colloque aura lieu.</p>"}],
    }
    count = 3000
    started = time.perf_counter()
    for _ in range(count):
        render_template("post.html.j2", context).encode("utf-8")
    pure = count / (time.perf_counter() - started)
    # One renderer for a whole run, as generation uses it: indexes built once, heavy
    # fields (texts, blocks) read per owner.
    renderer = SiteRenderer(demo, "demo", as_of=AS_OF)
    owners = demo_owners()
    rounds = 30
    started = time.perf_counter()
    for _ in range(rounds):
        for owner in owners:
            renderer.render(owner)
    full = rounds * len(owners) / (time.perf_counter() - started)
    with capsys.disabled():
        print(f"\n[render throughput, {demo.get_bind().dialect.name}] pure templates: {pure:,.0f} files/s; "
              f"full renders with database reads: {full:,.0f} files/s")

"""Rendering is a pure function of the database: same bytes under other locales, time
zones and hash seeds (run in subprocesses), and a throughput figure (printed, never asserted)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.orm import Session

from osuny_pipeline_tests.render.builders import render_all_owners

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

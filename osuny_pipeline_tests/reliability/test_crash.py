"""Crash anywhere (issue 7.1): a failure injected at each step of identification,
generation and sync (an exception in-process, and a real SIGKILL of an
`osuny-pipeline` process), then a clean identify -> generate -> sync converges: the
remote tree equals a fresh rendering of the database byte for byte, every git_file is
synced, no second commit is made for content already pushed, foreign files survive."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import timedelta

import pytest

from osuny_pipeline.cms.models import utcnow
from osuny_pipeline.git import sync as sync_module
from osuny_pipeline.git.errors import WebsiteBusy
from osuny_pipeline.git.mirror import Mirror
from osuny_pipeline.render import generate as generate_module
from osuny_pipeline_tests.reliability.conftest import Site, commit_count, remote_head

FOREIGN = {"layouts/partials/custom.html": b"<div>theme</div>\n", "static/robots.txt": b"User-agent: *\n"}


class Crash(RuntimeError):
    """The injected failure (not an OsunyError: nothing may swallow it as a per-file error)."""


def after_calls(real: Callable, calls: int) -> Callable:
    """`real`, which raises Crash right after its `calls`-th call returned."""
    count = 0

    def wrapper(*args, **kwargs):
        nonlocal count
        result = real(*args, **kwargs)
        count += 1
        if count >= calls:
            raise Crash(f"injected after {real.__name__} call {count}")
        return result

    wrapper.__name__ = real.__name__
    return wrapper


def push_foreign(site: Site) -> None:
    work = site.tmp / "foreign-work"
    subprocess.run(["git", "clone", "-q", str(site.remote), str(work)], check=True, capture_output=True)
    for path, data in FOREIGN.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_bytes(data)
    env = {**os.environ, "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.org",
           "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.org"}
    for args in (["add", "-A"], ["commit", "-q", "-m", "theme files"], ["push", "-q", "origin", "HEAD:main"]):
        subprocess.run(["git", "-C", str(work), *args], check=True, capture_output=True, env=env)


def edit_everything(site: Site) -> None:
    """One load that edits, renames, unpublishes and deletes: every kind of file change."""
    content = site.content
    post = next(p for p in content["posts"] if p["id"] == "p1")
    post["localizations"]["fr"]["title"] = "Colloque reporté"
    page = next(p for p in content["pages"] if p["id"] == "formation")
    page["localizations"]["fr"]["slug"] = "formations"  # moves the page and its child
    person = next(p for p in content["people"] if p["id"] == "alan")
    person["localizations"]["fr"]["published"] = False
    content["posts"] = [p for p in content["posts"] if p["id"] != "p2"]
    site.load(content)
    site.load({"posts": [{"id": "p2", "deleted": True}]})


def prepared(site: Site) -> int:
    """Published, foreign files pushed, then edited: returns the commit count before the edit is synced."""
    site.load()
    site.cycle()
    push_foreign(site)
    edit_everything(site)
    return commit_count(site.remote)


# step -> (object, attribute, how many calls before the crash)
STEPS: dict[str, tuple[object, str, int]] = {
    "during identification": (None, "mark_identified", 1),
    "during render, some chunks committed": (None, "render", 7),
    "after content write": (generate_module, "put_content", 2),
    "after tree build": (sync_module, "build_tree", 1),
    "after commit": (sync_module, "_build_commits", 1),
    "after push, before the database update": (Mirror, "push", 1),
    "during the database update": (sync_module, "_clear_writes", 1),
    "after the database update": (sync_module, "mark_pushed", 1),
}


def inject(step: str, monkeypatch: pytest.MonkeyPatch) -> None:
    target, name, calls = STEPS[step]
    if name == "mark_identified":
        from osuny_pipeline.graph import identify as identify_module

        target = identify_module
    elif name == "render":
        from osuny_pipeline.render.renderer import SiteRenderer

        target = SiteRenderer
        monkeypatch.setattr(generate_module, "CHUNK", 3)  # several committed chunks before the crash
    monkeypatch.setattr(target, name, after_calls(getattr(target, name), calls))


@pytest.mark.parametrize("step", list(STEPS))
def test_an_exception_at_any_step_then_a_clean_run_converges(site: Site, step: str, monkeypatch):
    before = prepared(site)
    # A monkeypatch of its own: undoing it must not undo the fixtures' environment
    # (OSUNY_GIT_CACHE: without it, parallel tests would share the default cache).
    with pytest.MonkeyPatch.context() as crash:
        inject(step, crash)
        with pytest.raises(Exception) as info:
            site.cycle()
    assert "injected after" in str(info.value)

    result = site.cycle()
    site.assert_converged(foreign=FOREIGN)
    assert commit_count(site.remote) == before + 1, "one commit for the edit, never a second one"
    if step in ("after push, before the database update", "during the database update"):
        assert not result.pushed, "the landed push is recognised, not pushed again"
    assert site.cycle().selected == 0  # and nothing is left to do


# ---------------------------------------------------------------------- a real killed process

KILLER = textwrap.dedent("""
    import os, signal, sys
    from osuny_pipeline.cli import main
    from osuny_pipeline.git import sync as sync_module
    from osuny_pipeline.git.mirror import Mirror
    from osuny_pipeline.render import generate as generate_module
    from osuny_pipeline.render.renderer import SiteRenderer

    step, command = sys.argv[1], sys.argv[2:]
    target, name, calls = {{
        "after push": (Mirror, "push", 1),
        "during the database update": (sync_module, "_clear_writes", 1),
        "during render": (SiteRenderer, "render", 7),
    }}[step]
    generate_module.CHUNK = 3
    real, seen = getattr(target, name), []

    def killed(*args, **kwargs):
        result = real(*args, **kwargs)
        seen.append(1)
        if len(seen) >= calls:
            os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no lease release, no rollback by us
        return result

    setattr(target, name, killed)
    sys.exit(main(command))
""")


def run_killed(site: Site, step: str, *command: str) -> None:
    env = {**os.environ, "OSUNY_LOCK_SECONDS": "30"}
    proc = subprocess.run([sys.executable, "-c", KILLER.format(), step, *command], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr


@pytest.mark.parametrize("step", ["after push", "during the database update", "during render"])
def test_a_killed_process_then_a_clean_run_converges(site: Site, step: str):
    before = prepared(site)
    site.identify()
    if step == "during render":
        run_killed(site, step, "generate", "--website", site.website_id)
    else:
        site.generate()
        run_killed(site, step, "sync", "--website", site.website_id)
        pushed = remote_head(site.remote)
        assert commit_count(site.remote) == before + 1  # the push landed, nothing recorded it
        with pytest.raises(WebsiteBusy):  # the dead worker's lease still holds the site...
            site.sync(now=utcnow)
    # The killed process ran on the real clock: follow it, past its lease (OSUNY_LOCK_SECONDS=30).
    site.time = utcnow().replace(microsecond=0) + timedelta(seconds=31)
    if step != "during render":
        assert not site.sync().pushed, "the landed push is recognised"
        assert remote_head(site.remote) == pushed
    site.cycle()
    site.assert_converged(foreign=FOREIGN)
    assert commit_count(site.remote) == before + 1

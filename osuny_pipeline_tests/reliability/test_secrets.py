"""Secrets (issue 7.5): a token given through the environment never shows up anywhere a
failing push can write: log records, exception texts (with their causes), CLI output,
`status --json`, the website's recorded error, Dagster event logs and failure
metadata, commit messages, the git cache's files, remote URLs printed in errors.

Each case fails a push over smart HTTP (`git http-backend` behind Basic auth) in a way
that puts the token in libgit2's or the server's own words; every output is captured
and grepped for it. (osuny_pipeline_tests/git/test_errors.py covers the successful push
and the wrong token at the sync level.)"""

from __future__ import annotations

import logging
import socket
import subprocess
import traceback
from pathlib import Path

import pytest
from dagster import instance_for_test
from dagster._serdes import serialize_value
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from osuny_pipeline.cli import main as cli
from osuny_pipeline.cms.models import GitFile, WebsiteState
from osuny_pipeline.defs.definitions import defs
from osuny_pipeline.defs.partitions import websites
from osuny_pipeline.git.sync import sync_website
from osuny_pipeline_tests.reliability.conftest import SETTINGS, Site, git, init_bare


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def arrange(site: Site, case: str, git_http, monkeypatch) -> str:
    """Point website `demo` at a remote that fails the case's way; returns the token."""
    token = git_http.password
    remote = init_bare(git_http.root / "site.git")
    url, reference = git_http.repo_url("site.git"), "SITE_TOKEN"
    monkeypatch.setenv("SITE_TOKEN", token)
    if case == "server rejection quoting the token":
        hook = remote / "hooks" / "pre-receive"
        hook.write_text(f"#!/bin/sh\necho 'push with https://x-access-token:{token}@example.org refused: "
                        f"token {token} is read-only' >&2\nexit 1\n")
        hook.chmod(0o755)
    elif case == "token embedded in the repository URL":
        host = git_http.url.removeprefix("http://")
        url, reference = f"http://x-access-token:{token}@{host}/missing.git", None
    elif case == "unreachable server":
        url = f"http://127.0.0.1:{closed_port()}/site.git"
    elif case == "user:token refused":
        token = "someone:wrong-token-abcdef0123456789"
        monkeypatch.setenv("SITE_TOKEN", token)
        token = token.split(":", 1)[1]
    else:
        raise AssertionError(case)
    with site.engine.begin() as conn:
        conn.execute(text("UPDATE websites SET repository = :url, credentials = :ref WHERE id = 'demo'"),
                     {"url": url, "ref": reference})
    return token


CASES = ["server rejection quoting the token", "token embedded in the repository URL", "unreachable server",
         "user:token refused"]


def every_text(root: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in root.rglob("*") if p.is_file() and p.stat().st_size < 1e6)


@pytest.mark.parametrize("case", CASES)
def test_a_token_appears_in_no_output_of_a_failing_push(sqlite_site: Site, case, git_http, monkeypatch, caplog,
                                                        capfd):
    site = sqlite_site
    caplog.set_level(logging.DEBUG)
    site.load()
    token = arrange(site, case, git_http, monkeypatch)
    site.identify()
    site.generate()
    outputs: list[str] = []

    with pytest.raises(Exception) as info:  # the library call
        sync_website(site.engine, "demo", settings=SETTINGS)
    outputs += [str(info.value), repr(info.value), "".join(traceback.format_exception(info.value))]

    assert cli(["sync", "--website", "demo"]) == 1  # the CLI, and what an operator reads next
    assert cli(["sync"]) == 1
    assert cli(["status", "--website", "demo", "--json"]) == 0
    assert cli(["status"]) == 0

    with instance_for_test() as instance:  # Dagster: events, failure metadata, run logs
        instance.add_dynamic_partitions(websites.name, ["demo"])
        result = defs.resolve_job_def("sync_job").execute_in_process(
            partition_key="demo", instance=instance, raise_on_error=False)
        assert not result.success
        outputs += [serialize_value(record) for record in instance.all_logs(result.run_id)]
        outputs += [str(instance.get_run_by_id(result.run_id))]

    captured = capfd.readouterr()
    outputs += [captured.out, captured.err, caplog.text]
    outputs += [f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records]
    with Session(site.engine) as session:
        outputs.append(session.get(WebsiteState, "demo").last_error or "")
        outputs += [e or "" for e in session.scalars(select(GitFile.error))]
    outputs.append(every_text(site.tmp / "git-cache"))  # mirror config, FETCH_HEAD, logs
    if (git_http.root / "site.git" / "refs" / "heads" / "main").exists():
        outputs.append(git(git_http.root / "site.git", "log", "--all", "--format=%an %ae %B"))

    assert "demo" in captured.err and "error" in captured.err  # it did fail, visibly
    if case == "token embedded in the repository URL":  # it was in the raw text: redacted, not absent
        assert "http://***@127.0.0.1" in captured.err, captured.err
    leaks = [o[max(o.find(token) - 80, 0):o.find(token) + 20] for o in outputs if token in o]
    assert not leaks, leaks


def test_a_token_in_the_url_never_reaches_the_mirror_or_a_commit(sqlite_site: Site, git_http, capfd):
    """The successful counterpart: the token travels in the URL, the push works, and
    neither the commit nor the cache nor the output holds it."""
    site = sqlite_site
    site.load()
    token = git_http.password
    remote = init_bare(git_http.root / "site.git")
    host = git_http.url.removeprefix("http://")
    with site.engine.begin() as conn:
        conn.execute(text("UPDATE websites SET repository = :url, credentials = NULL WHERE id = 'demo'"),
                     {"url": f"http://x-access-token:{token}@{host}/site.git"})
    site.identify()
    site.generate()
    assert cli(["sync", "--website", "demo"]) == 0
    assert cli(["lineage", "--website", "demo", "data/menus/fr/primary.yml"]) == 0
    out = capfd.readouterr()
    log = subprocess.run(["git", "--git-dir", str(remote), "log", "--all", "--format=%an %ae %B"],
                         capture_output=True, text=True, check=True).stdout
    assert "Osuny-Website: demo" in log
    for text_ in (out.out, out.err, log, every_text(site.tmp / "git-cache")):
        assert token not in text_

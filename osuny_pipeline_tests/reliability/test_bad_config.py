"""Bad configuration (issue 7.4): unreachable database, unknown website key, bad remote
URL, wrong token, missing branch, unwritable cache folder. Each is one clear line and a
non-zero exit from the CLI, a failed (not hung) Dagster run for that website only, and
nothing half-written: the remote keeps its head, the files stay pending."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from dagster import DagsterEventType, instance_for_test
from sqlalchemy import text

from osuny_pipeline.cli import main as cli
from osuny_pipeline.defs.definitions import defs
from osuny_pipeline.defs.partitions import websites
from osuny_pipeline_tests.reliability.conftest import Site, commit_count, pending_rows, remote_head


def unwritable_cache(tmp_path: Path) -> Path:
    """A cache folder this process cannot write into (root ignores modes: use sysfs)."""
    if os.geteuid() == 0:
        return Path("/sys/osuny-git-cache")
    folder = tmp_path / "read-only-cache"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    return folder


def break_config(site: Site, case: str, monkeypatch: pytest.MonkeyPatch, git_http) -> str:
    """Break website `bad` the case's way; returns what its one-line error must say."""
    def set_website(**values: str) -> None:
        with site.engine.begin() as conn:
            assignments = ", ".join(f"{k} = :{k}" for k in values)
            conn.execute(text(f"UPDATE websites SET {assignments} WHERE id = 'bad'"), values)

    if case == "bad remote URL":
        set_website(repository="ftp://example.org/site.git")
        return "unsupported repository URL scheme 'ftp'"
    if case == "wrong token":
        (git_http.root / "site.git").mkdir()
        os.system(f"git init -q --bare -b main {git_http.root / 'site.git'}")
        monkeypatch.setenv("BAD_TOKEN", "wrong-token-0123456789")
        set_website(repository=git_http.repo_url("site.git"), credentials="BAD_TOKEN")
        return "rejected the credentials"
    if case == "missing branch":
        set_website(branch="production")
        return "branch 'production' does not exist"
    if case == "unwritable cache folder":
        monkeypatch.setenv("OSUNY_GIT_CACHE", str(unwritable_cache(site.tmp)))
        return "is not writable"
    raise AssertionError(case)


CASES = ["bad remote URL", "wrong token", "missing branch", "unwritable cache folder"]


def two_websites(site: Site) -> Site:
    """`demo` stays good; `bad` is published once, then edited, then broken."""
    content = site.content
    other = {**content["websites"][0], "id": "bad", "repository": str(site.tmp / "bad.git")}
    os.system(f"git init -q --bare -b main {site.tmp / 'bad.git'}")
    content["websites"].append(other)
    content["pages"].append({"id": "bad-home", "website": "bad", "parent": None, "position": 0,
                             "localizations": {"fr": {"published": True, "title": "Bad", "slug": ""}}})
    site.load(content)
    assert cli(["identify"]) == 0 and cli(["generate"]) == 0 and cli(["sync"]) == 0
    page = content["pages"][-1]
    page["localizations"]["fr"]["title"] = "Bad, edited"
    site.content["posts"][0]["localizations"]["fr"]["title"] = "Good, edited"
    site.load(content)
    assert cli(["identify"]) == 0 and cli(["generate"]) == 0
    return site


def one_line_error(err: str, website: str, expected: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{website}: error: "), err
    assert expected in lines[0], err
    assert "Traceback" not in err


@pytest.mark.parametrize("case", CASES)
def test_cli_fails_with_one_line_and_only_the_broken_website_is_skipped(site: Site, case, monkeypatch, git_http,
                                                                         capsys):
    two_websites(site)
    bad_remote = site.tmp / "bad.git"
    bad_head, good_commits = remote_head(bad_remote), commit_count(site.remote)
    expected = break_config(site, case, monkeypatch, git_http)
    capsys.readouterr()
    if case == "unwritable cache folder":  # every website shares the cache: both fail, clearly
        assert cli(["sync", "--website", "bad"]) == 1
    else:
        assert cli(["sync"]) == 1
        assert commit_count(site.remote) == good_commits + 1, "the good website still synced"
    out = capsys.readouterr()
    one_line_error(out.err, "bad", expected)
    assert remote_head(bad_remote) == bad_head, "nothing half-written on the remote"
    assert pending_rows(site.engine, "bad") >= 1, "the edit is still pending"
    assert cli(["status", "--website", "bad"]) == 0
    assert expected in capsys.readouterr().out


def test_unknown_website_key_is_one_line_for_every_command(site: Site, capsys):
    site.load()
    for command in (["identify"], ["generate"], ["sync"], ["rebuild"], ["status"]):
        capsys.readouterr()
        assert cli([*command, "--website", "nope"]) == 1, command
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "unknown website 'nope'" in lines[0], (command, err)


def test_unreachable_database_is_one_line_with_the_password_masked(monkeypatch, capsys):
    monkeypatch.setenv("OSUNY_DATABASE_URL", "postgresql://osuny:s3cret-pw@127.0.0.1:1/cms")
    for command in (["identify"], ["generate"], ["sync"], ["status"], ["load", "/dev/null"]):
        capsys.readouterr()
        assert cli(command) == 1, command
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "cannot reach the CMS database" in lines[0], (command, err)
        assert "s3cret-pw" not in err


# ---------------------------------------------------------------------- Dagster


def run_sync(instance, partition: str):
    job = defs.resolve_job_def("sync_job")
    return job.execute_in_process(partition_key=partition, instance=instance, raise_on_error=False)


def failure_messages(result) -> list[str]:
    return [e.step_failure_data.error.message for e in result.all_events
            if e.event_type == DagsterEventType.STEP_FAILURE]


@pytest.mark.parametrize("case", [*CASES, "unknown website key"])
def test_a_dagster_run_fails_for_that_website_only(sqlite_site: Site, case, monkeypatch, git_http):
    site = two_websites(sqlite_site)
    bad_head, good_commits = remote_head(site.tmp / "bad.git"), commit_count(site.remote)
    partition = "bad"
    if case == "unknown website key":
        partition, expected = "ghost", "unknown website 'ghost'"
    else:
        expected = break_config(site, case, monkeypatch, git_http)
    with instance_for_test() as instance:
        instance.add_dynamic_partitions(websites.name, ["demo", "bad", "ghost"])
        failed = run_sync(instance, partition)
        assert not failed.success
        [message] = failure_messages(failed)
        assert expected in message and "\n" not in message.strip(), message
        if case != "unwritable cache folder":
            assert run_sync(instance, "demo").success
            assert commit_count(site.remote) == good_commits + 1
    assert remote_head(site.tmp / "bad.git") == bad_head


def test_a_dagster_run_against_an_unreachable_database_fails_fast():
    from osuny_pipeline.defs.resources import CmsDatabase

    job = defs.resolve_job_def("sync_job")
    with instance_for_test() as instance:
        instance.add_dynamic_partitions(websites.name, ["demo"])
        bad = CmsDatabase(url="postgresql://osuny:s3cret-pw@127.0.0.1:1/cms")
        result = job.execute_in_process(partition_key="demo", instance=instance, raise_on_error=False,
                                        resources={"cms": bad})
    assert not result.success
    text_of_events = " ".join(str(e) for e in result.all_events)
    assert "s3cret-pw" not in text_of_events


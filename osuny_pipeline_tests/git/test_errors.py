"""Remote failures: a clear error on the website, nothing marked synced, other websites
unaffected, no secret anywhere. Includes a push over smart HTTP with Basic auth."""

from __future__ import annotations

import logging
import os
import socket
import stat

import pytest
from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import WebsiteState
from osuny_pipeline.git.errors import (
    AuthenticationFailed,
    CacheUnavailable,
    PushRejected,
    RemoteUnreachable,
    RepositoryNotFound,
)
from osuny_pipeline.git.sync import sync_all, sync_website
from osuny_pipeline_tests.git.conftest import (
    T0,
    add_website,
    commit_count,
    git,
    head,
    init_bare,
    ls_tree,
    render,
    row,
    show,
)

POST = ("post", "p1", "fr")
POST_PATH = "content/fr/p1.html"


def last_error(engine, website_id: str) -> str | None:
    with Session(engine) as session:
        state = session.get(WebsiteState, website_id)
        return state.last_error if state else None


def test_missing_repository_is_recorded_and_other_websites_still_sync(engine, tmp_path, cache_dir, settings,
                                                                        clock):
    good = init_bare(tmp_path / "good.git")
    add_website(engine, "broken", str(tmp_path / "nowhere.git"))
    add_website(engine, "good", str(good))
    render(engine, "broken", POST, POST_PATH, "a\n", at=T0)
    render(engine, "good", POST, POST_PATH, "b\n", at=T0)
    clock.advance(1)
    results = sync_all(engine, settings=settings, now=clock)
    assert isinstance(results["broken"], RepositoryNotFound)
    assert "website broken" in str(results["broken"]) and "does not exist" in str(results["broken"])
    assert results["good"].pushed and show(good, POST_PATH) == "b\n"
    assert "does not exist" in last_error(engine, "broken")
    assert row(engine, "broken", POST).desynchronized_at is not None
    assert last_error(engine, "good") is None


def test_an_error_is_cleared_by_the_next_successful_sync(engine, tmp_path, cache_dir, settings, clock):
    add_website(engine, "demo", str(tmp_path / "later.git"))
    render(engine, "demo", POST, POST_PATH, "a\n", at=T0)
    with pytest.raises(RepositoryNotFound):
        sync_website(engine, "demo", settings=settings, now=clock)
    assert last_error(engine, "demo")
    init_bare(tmp_path / "later.git")
    assert sync_website(engine, "demo", settings=settings, now=clock).pushed
    assert last_error(engine, "demo") is None


def test_unreachable_remote(engine, cache_dir, settings, clock):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    add_website(engine, "demo", f"http://127.0.0.1:{port}/site.git")
    render(engine, "demo", POST, POST_PATH, "a\n", at=T0)
    with pytest.raises(RemoteUnreachable, match="remote unreachable"):
        sync_website(engine, "demo", settings=settings, now=clock)
    assert "unreachable" in last_error(engine, "demo")


def test_unusable_cache_folder(engine, remote, tmp_path, monkeypatch, settings, clock):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("OSUNY_GIT_CACHE", str(blocker / "cache"))
    add_website(engine, "demo", str(remote))
    render(engine, "demo", POST, POST_PATH, "a\n", at=T0)
    with pytest.raises(CacheUnavailable, match="not writable"):
        sync_website(engine, "demo", settings=settings, now=clock)
    assert head(remote) is None and "not writable" in last_error(engine, "demo")


def test_read_only_cache_folder(engine, remote, cache_dir, settings, clock, monkeypatch):
    if os.geteuid() == 0:
        # Root ignores file modes; sysfs refuses new entries even to root.
        monkeypatch.setenv("OSUNY_GIT_CACHE", "/sys/osuny-read-only-git-cache")
    else:
        cache_dir.mkdir()
        cache_dir.chmod(stat.S_IRUSR | stat.S_IXUSR)
    add_website(engine, "demo", str(remote))
    render(engine, "demo", POST, POST_PATH, "a\n", at=T0)
    try:
        with pytest.raises(CacheUnavailable):
            sync_website(engine, "demo", settings=settings, now=clock)
    finally:
        if cache_dir.exists():
            cache_dir.chmod(0o755)
    assert head(remote) is None and "not writable" in last_error(engine, "demo")


# ---------------------------------------------------------------------- smart HTTP


def assert_secret_nowhere(secret: str, engine, remote, cache_dir, caplog, *texts: str) -> None:
    for text in texts:
        assert secret not in text
    assert secret not in caplog.text
    assert secret not in (last_error(engine, "demo") or "")
    if head(remote):
        assert secret not in git(remote, "log", "--format=%H %an %ae %B", "main")
    for config in cache_dir.rglob("config"):
        assert secret not in config.read_text()


def test_push_over_smart_http_with_a_token(engine, git_http, cache_dir, settings, clock, monkeypatch, caplog,
                                           capsys):
    caplog.set_level(logging.DEBUG)
    remote = init_bare(git_http.root / "site.git")
    monkeypatch.setenv("SITE_TOKEN", git_http.password)
    add_website(engine, "demo", git_http.repo_url("site.git"), credentials="env:SITE_TOKEN")
    render(engine, "demo", POST, POST_PATH, "over http\n", at=T0)
    result = sync_website(engine, "demo", settings=settings, now=clock)
    assert result.pushed and show(remote, POST_PATH) == "over http\n"
    render(engine, "demo", POST, POST_PATH, "second push, incremental fetch\n", at=clock.advance(60))
    sync_website(engine, "demo", settings=settings, now=clock)
    assert commit_count(remote) == 2
    assert any("git-receive-pack" in r for r in git_http.requests)
    out = capsys.readouterr()
    assert_secret_nowhere(git_http.password, engine, remote, cache_dir, caplog, repr(result), out.out, out.err)


def test_token_in_a_file_with_a_user_name(engine, git_http, tmp_path, cache_dir, settings, clock):
    remote = init_bare(git_http.root / "site.git")
    token_file = tmp_path / "token"
    token_file.write_text(f"{git_http.username}:{git_http.password}\n")
    add_website(engine, "demo", git_http.repo_url("site.git"), credentials=f"file:{token_file}")
    render(engine, "demo", POST, POST_PATH, "file token\n", at=T0)
    assert sync_website(engine, "demo", settings=settings, now=clock).pushed
    assert show(remote, POST_PATH) == "file token\n"


def test_a_wrong_token_is_a_clear_authentication_error(engine, git_http, cache_dir, settings, clock, monkeypatch,
                                                       caplog):
    caplog.set_level(logging.DEBUG)
    remote = init_bare(git_http.root / "site.git")
    wrong = "wrong-token-0123456789"
    monkeypatch.setenv("SITE_TOKEN", wrong)
    add_website(engine, "demo", git_http.repo_url("site.git"), credentials="SITE_TOKEN")
    render(engine, "demo", POST, POST_PATH, "x\n", at=T0)
    with pytest.raises(AuthenticationFailed, match="rejected the credentials") as info:
        sync_website(engine, "demo", settings=settings, now=clock)
    assert "website demo" in str(info.value) and git_http.url in str(info.value)
    assert head(remote) is None and row(engine, "demo", POST).desynchronized_at is not None
    assert "rejected the credentials" in last_error(engine, "demo")
    assert_secret_nowhere(wrong, engine, remote, cache_dir, caplog, str(info.value), repr(info.value))


def test_no_credentials_for_a_private_remote(engine, git_http, cache_dir, settings, clock):
    init_bare(git_http.root / "site.git")
    add_website(engine, "demo", git_http.repo_url("site.git"))
    render(engine, "demo", POST, POST_PATH, "x\n", at=T0)
    with pytest.raises(AuthenticationFailed, match="none are configured"):
        sync_website(engine, "demo", settings=settings, now=clock)


def test_missing_environment_variable_names_the_variable(engine, git_http, cache_dir, settings, clock):
    init_bare(git_http.root / "site.git")
    add_website(engine, "demo", git_http.repo_url("site.git"), credentials="env:NOT_SET_ANYWHERE")
    render(engine, "demo", POST, POST_PATH, "x\n", at=T0)
    with pytest.raises(AuthenticationFailed, match="NOT_SET_ANYWHERE is not set"):
        sync_website(engine, "demo", settings=settings, now=clock)


def test_repository_not_found_over_http(engine, git_http, cache_dir, settings, clock, monkeypatch):
    monkeypatch.setenv("SITE_TOKEN", git_http.password)
    add_website(engine, "demo", git_http.repo_url("missing.git"), credentials="SITE_TOKEN")
    render(engine, "demo", POST, POST_PATH, "x\n", at=T0)
    with pytest.raises(RepositoryNotFound, match="not found"):
        sync_website(engine, "demo", settings=settings, now=clock)


def test_a_server_side_rejection_is_an_error_not_a_success(engine, git_http, cache_dir, settings, clock,
                                                           monkeypatch):
    remote = init_bare(git_http.root / "site.git")
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'main is protected' >&2\nexit 1\n")
    hook.chmod(0o755)
    monkeypatch.setenv("SITE_TOKEN", git_http.password)
    add_website(engine, "demo", git_http.repo_url("site.git"), credentials="SITE_TOKEN")
    render(engine, "demo", POST, POST_PATH, "x\n", at=T0)
    with pytest.raises(PushRejected, match="refused the push"):
        sync_website(engine, "demo", settings=settings, now=clock)
    assert head(remote) is None and not ls_tree(remote)
    assert row(engine, "demo", POST).desynchronized_at is not None
    assert "refused the push" in last_error(engine, "demo")

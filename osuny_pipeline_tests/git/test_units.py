"""Pure pieces: remote URL parsing, credential references, error classification, trees."""

from __future__ import annotations

from pathlib import Path

import pygit2
import pytest

from osuny_pipeline.errors import redact
from osuny_pipeline.git.credentials import resolve_credentials
from osuny_pipeline.git.errors import (
    AuthenticationFailed,
    NonFastForward,
    RemoteUnreachable,
    RepositoryNotFound,
)
from osuny_pipeline.git.mirror import iter_blobs
from osuny_pipeline.git.remote import classify_git_error, parse_remote
from osuny_pipeline.git.trees import UnsafePath, build_tree, check_path


@pytest.mark.parametrize(("url", "kind", "username"), [
    ("/srv/git/site.git", "local", None),
    ("file:///srv/git/site.git", "local", None),
    ("https://github.com/org/site.git", "http", None),
    ("https://bot@gitlab.example.org/org/site.git", "http", "bot"),
    ("ssh://git@github.com:22/org/site.git", "ssh", "git"),
    ("git@github.com:org/site.git", "ssh", "git"),
])
def test_any_git_url_is_understood(url, kind, username):
    spec = parse_remote(url)
    assert (spec.kind, spec.username) == (kind, username)


def test_a_password_in_the_url_never_reaches_libgit2_or_a_message():
    spec = parse_remote("https://bot:s3cr3t-passw0rd@github.com/org/site.git")
    assert spec.url == "https://bot@github.com/org/site.git" and spec.embedded_password == "s3cr3t-passw0rd"
    creds = resolve_credentials(None, spec)
    assert (creds.username, creds.token) == ("bot", "s3cr3t-passw0rd")
    assert "s3cr3t" not in redact("failed: s3cr3t-passw0rd") and "s3cr3t" not in repr(creds)


def test_credential_references(monkeypatch, tmp_path: Path):
    https = parse_remote("https://github.com/org/site.git")
    monkeypatch.setenv("TOKEN_A", "ghp_abcdefgh")
    assert resolve_credentials("TOKEN_A", https).token == "ghp_abcdefgh"
    assert resolve_credentials("env:TOKEN_A", https).username is None  # x-access-token at auth time
    monkeypatch.setenv("TOKEN_B", "deploy:glpat-123456")
    creds = resolve_credentials("env:TOKEN_B", https)
    assert (creds.username, creds.token) == ("deploy", "glpat-123456")
    key = tmp_path / "id_ed25519"
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n")
    assert resolve_credentials(f"file:{key}", parse_remote("git@github.com:org/site.git")).key_path == key
    assert "abc" not in redact(key.read_text()).replace("***", "")
    with pytest.raises(AuthenticationFailed, match="website w: credentials: file /nope does not exist"):
        resolve_credentials("file:/nope", https, website_id="w")


@pytest.mark.parametrize(("message", "kind"), [
    ("too many redirects or authentication replays", AuthenticationFailed),
    ("unexpected http status code: 404", RepositoryNotFound),
    ("failed to resolve address for nowhere.invalid: Name or service not known", RemoteUnreachable),
    ("cannot push non-fastforwardable reference", NonFastForward),
])
def test_libgit2_errors_become_actionable(message, kind):
    error = classify_git_error(pygit2.GitError(message), website_id="w",
                               remote=parse_remote("https://github.com/o/s.git"), action="fetch from")
    assert type(error) is kind and str(error).startswith("website w: cannot fetch from https://github.com/o/s.git")


@pytest.mark.parametrize("path", ["", "/etc/passwd", "a/../b", ".git/config", "a//b", "a/./b"])
def test_unsafe_paths_are_refused(path):
    with pytest.raises(UnsafePath):
        check_path(path)


def test_tree_building_rewrites_only_changed_paths_and_drops_empty_folders(tmp_path: Path):
    repo = pygit2.init_repository(str(tmp_path / "r.git"), bare=True)
    blob = repo.create_blob
    base = repo[build_tree(repo, None, {"content/fr/a.html": blob(b"a"), "content/fr/posts/b.html": blob(b"b"),
                                         "layouts/x.html": blob(b"x")})]
    new = repo[build_tree(repo, base, {"content/fr/posts/b.html": None, "content/en/c.html": blob(b"c")})]
    assert dict(iter_blobs(repo, new)).keys() == {"content/fr/a.html", "content/en/c.html", "layouts/x.html"}
    assert new["layouts"].id == base["layouts"].id  # untouched folder: same tree object
    assert "posts" not in repo[new["content/fr"].id]  # emptied folder is gone
    with pytest.raises(UnsafePath, match="directory"):
        build_tree(repo, new, {"content/fr": blob(b"would erase a folder")})
    assert build_tree(repo, new, {"nowhere/z.html": None}) == new.id

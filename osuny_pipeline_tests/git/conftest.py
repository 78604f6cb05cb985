"""Fixtures for the sync: real bare repositories, git_files rows written directly, a
fake clock, and `git http-backend` behind Basic auth on 127.0.0.1."""

from __future__ import annotations

import base64
import http.server
import os
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import GitFile, Website
from osuny_pipeline.config import SyncSettings
from osuny_pipeline.git import sync as sync_module
from osuny_pipeline.store import put_content

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def git(repo: Path, *args: str, check: bool = True) -> str:
    return subprocess.run(["git", "--git-dir", str(repo), *args], check=check,
                          capture_output=True, text=True).stdout


def init_bare(path: Path) -> Path:
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    return path


def head(repo: Path) -> str | None:
    out = subprocess.run(["git", "--git-dir", str(repo), "rev-parse", "--verify", "-q", "refs/heads/main"],
                         capture_output=True, text=True).stdout.strip()
    return out or None


def commit_count(repo: Path) -> int:
    return int(git(repo, "rev-list", "--count", "main").strip()) if head(repo) else 0


def ls_tree(repo: Path, rev: str = "main") -> dict[str, str]:
    """path -> "mode type sha" of every entry (submodules included)."""
    if not head(repo):
        return {}
    entries = {}
    for line in git(repo, "ls-tree", "-r", rev).splitlines():
        meta, path = line.split("\t", 1)
        entries[path] = meta
    return entries


def show(repo: Path, path: str, rev: str = "main") -> str:
    return git(repo, "show", f"{rev}:{path}")


def changed(repo: Path, old: str, new: str = "main") -> dict[str, str]:
    out = git(repo, "diff", "--name-status", "--no-renames", old, new)
    return {line.split("\t")[-1]: line.split("\t")[0] for line in out.splitlines()}


def fsck(repo: Path) -> None:
    subprocess.run(["git", "--git-dir", str(repo), "fsck", "--strict", "--no-progress"], check=True,
                   capture_output=True)


FOREIGN_ENV = {"GIT_AUTHOR_NAME": "Someone", "GIT_AUTHOR_EMAIL": "someone@example.org",
               "GIT_COMMITTER_NAME": "Someone", "GIT_COMMITTER_EMAIL": "someone@example.org"}


def push_foreign(remote: Path, files: dict[str, str], *, delete: tuple[str, ...] = (),
                 submodules: dict[str, str] | None = None, message: str = "Foreign edit") -> str:
    """Commit on the remote as a person would (clone, edit, push); returns the new head."""
    work = remote.parent / f"foreign-{uuid.uuid4().hex[:8]}"
    subprocess.run(["git", "clone", "-q", str(remote), str(work)], check=True, capture_output=True)
    subprocess.run(["git", "-C", str(work), "checkout", "-q", "-B", "main"], check=True)
    for path, text in files.items():
        p = work / path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(text.encode())
    for path in delete:
        subprocess.run(["git", "-C", str(work), "rm", "-q", path], check=True)
    env = {**os.environ, **FOREIGN_ENV}
    subprocess.run(["git", "-C", str(work), "add", "-A"], check=True)
    for path, sha in (submodules or {}).items():  # a gitlink, as a theme submodule is
        subprocess.run(["git", "-C", str(work), "update-index", "--add", "--cacheinfo", f"160000,{sha},{path}"],
                       check=True)
    subprocess.run(["git", "-C", str(work), "commit", "-q", "-m", message], check=True, env=env)
    subprocess.run(["git", "-C", str(work), "push", "-q", "origin", "HEAD:main"], check=True, capture_output=True)
    return head(remote) or ""


class Clock:
    """A controllable `now`: tests move time instead of sleeping."""

    def __init__(self, start: datetime = T0):
        self.value = start

    def __call__(self) -> datetime:
        return self.value

    def advance(self, seconds: float) -> datetime:
        self.value += timedelta(seconds=seconds)
        return self.value


def add_website(engine: Engine, website_id: str, repository: str, *, credentials: str | None = None,
                branch: str = "main") -> None:
    with Session(engine) as session, session.begin():
        session.add(Website(id=website_id, name=website_id.title(), url="https://example.org",
                            repository=repository, branch=branch, languages=["fr"], credentials=credentials))


def render(engine: Engine, website_id: str, owner: tuple[str, str, str], path: str | None, text: str | None,
           *, at: datetime = T0, generated: bool = True) -> int:
    """What generation does: store the content, set current_*, mark desynchronized (keeping
    the first desync time). Returns the row id."""
    about_type, about_id, language = owner
    with Session(engine) as session, session.begin():
        row = session.query(GitFile).filter_by(website_id=website_id, about_type=about_type,
                                               about_id=about_id, language=language).one_or_none()
        if row is None:
            row = GitFile(website_id=website_id, about_type=about_type, about_id=about_id, language=language)
            session.add(row)
        row.current_path = path
        row.current_sha = put_content(session, text.encode()) if text is not None else None
        if generated:
            row.generated_at = at
            row.desynchronized_at = row.desynchronized_at or at
        session.flush()
        return row.id


def row(engine: Engine, website_id: str, owner: tuple[str, str, str]) -> GitFile | None:
    with Session(engine, expire_on_commit=False) as session:
        return session.query(GitFile).filter_by(website_id=website_id, about_type=owner[0], about_id=owner[1],
                                                language=owner[2]).one_or_none()


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "git-cache"
    monkeypatch.setenv("OSUNY_GIT_CACHE", str(path))
    return path


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync_module, "BACKOFF_BASE_SECONDS", 0.01)


@pytest.fixture
def settings() -> SyncSettings:
    return SyncSettings(batch_size=100, author_name="Osuny Bot", author_email="bot@osuny.test",
                        lock_seconds=30.0, push_retries=3)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    return init_bare(tmp_path / "remote.git")


@pytest.fixture
def site(engine: Engine, remote: Path, cache_dir: Path) -> str:
    add_website(engine, "demo", str(remote))
    return "demo"


# ---------------------------------------------------------------------- smart HTTP


class _GitHttpHandler(http.server.BaseHTTPRequestHandler):
    """`git http-backend` as CGI behind Basic auth (what GitHub/GitLab do with a token)."""

    protocol_version = "HTTP/1.1"
    project_root: Path
    username: str
    password: str
    requests_log: list[str]

    def log_message(self, format: str, *args: object) -> None:  # keep pytest output clean
        self.requests_log.append(format % args)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return header[len("Basic "):].strip() == expected

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _serve(self) -> None:
        body = self._read_body()
        if not self._authorized():
            payload = b"authentication required\n"
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ["PATH"], "GIT_PROJECT_ROOT": str(self.project_root), "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": self.username, "REMOTE_ADDR": "127.0.0.1",
            "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(self.project_root),
        }
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        out = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True).stdout
        head_part, _, payload = out.partition(b"\r\n\r\n")
        status, headers = 200, []
        for line in head_part.split(b"\r\n"):
            name, _, value = line.decode().partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@dataclass
class GitHttpServer:
    url: str  # base URL, no credentials: http://127.0.0.1:PORT
    root: Path
    username: str
    password: str
    requests: list[str]

    def repo_url(self, name: str) -> str:
        return f"{self.url}/{name}"


@pytest.fixture
def git_http(tmp_path: Path) -> Iterator[GitHttpServer]:
    root = tmp_path / "http-root"
    root.mkdir()
    requests: list[str] = []
    password = f"tok-{uuid.uuid4().hex}"
    handler = type("Handler", (_GitHttpHandler,), {"project_root": root, "username": "x-access-token",
                                                    "password": password, "requests_log": requests})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield GitHttpServer(f"http://127.0.0.1:{server.server_address[1]}", root, "x-access-token", password,
                            requests)
    finally:
        server.shutdown()
        server.server_close()

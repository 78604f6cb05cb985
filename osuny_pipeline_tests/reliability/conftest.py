"""End-to-end helpers for the reliability suite: a website loaded through the real loader,
the three phases run as the CLI and Dagster run them, and the bare remote read back with
the `git` command and compared byte for byte with a fresh rendering of the database."""

from __future__ import annotations

import copy
import subprocess
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from osuny_pipeline.cli import main as cli
from osuny_pipeline.cms.db import engine_for
from osuny_pipeline.cms.models import GitFile, Permalink, utcnow
from osuny_pipeline.config import SyncSettings
from osuny_pipeline.git import sync as sync_module
from osuny_pipeline.git.sync import SyncResult, sync_website
from osuny_pipeline.graph.identify import website_owners
from osuny_pipeline.owners import FileOwner
from osuny_pipeline.render.generate import GenerationResult, generate_website
from osuny_pipeline_tests.cms.sample import small_site
from osuny_pipeline_tests.git.conftest import git_http  # noqa: F401  (smart HTTP behind Basic auth)

SETTINGS = SyncSettings(batch_size=100, author_name="Osuny Bot", author_email="bot@osuny.test",
                        lock_seconds=30.0, push_retries=3)


def git(repo: Path, *args: str, check: bool = True) -> str:
    return subprocess.run(["git", "--git-dir", str(repo), *args], check=check, capture_output=True,
                          text=True).stdout


def init_bare(path: Path) -> Path:
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    return path


def remote_head(repo: Path, branch: str = "main") -> str | None:
    out = subprocess.run(["git", "--git-dir", str(repo), "rev-parse", "--verify", "-q", f"refs/heads/{branch}"],
                         capture_output=True, text=True).stdout.strip()
    return out or None


def commit_count(repo: Path) -> int:
    return int(git(repo, "rev-list", "--count", "main").strip()) if remote_head(repo) else 0


def remote_files(repo: Path, rev: str = "main") -> dict[str, bytes]:
    """Every file of the remote tree with its bytes, read with `git ls-tree` + `git cat-file`."""
    if not remote_head(repo):
        return {}
    entries = []
    for line in git(repo, "ls-tree", "-r", "-z", rev).split("\0"):
        if not line:
            continue
        meta, path = line.split("\t", 1)
        _, kind, sha = meta.split()
        if kind == "blob":
            entries.append((path, sha))
    batch = subprocess.run(["git", "--git-dir", str(repo), "cat-file", "--batch"], check=True,
                           input="".join(f"{sha}\n" for _, sha in entries).encode(), capture_output=True).stdout
    files, offset = {}, 0
    for path, _ in entries:
        header_end = batch.index(b"\n", offset)
        size = int(batch[offset:header_end].split()[2])
        files[path] = batch[header_end + 1:header_end + 1 + size]
        offset = header_end + 1 + size + 1
    return files


def aliases_of(session: Session, website_id: str, owner: FileOwner, url: str | None) -> list[str]:
    """What generation gives the renderer: the owner's previous URLs from `permalinks`."""
    urls = session.scalars(select(Permalink.url).where(
        Permalink.website_id == website_id, Permalink.about_type == owner.about_type,
        Permalink.about_id == owner.about_id, Permalink.language == owner.language,
        Permalink.current.is_(False)))
    return sorted({u for u in urls if u != url})


def expected_files(engine: Engine, website_id: str, *, as_of: datetime | None = None) -> dict[str, bytes]:
    """A fresh rendering of the database: every file the website should have, by path."""
    from osuny_pipeline.render import SiteRenderer

    as_of = as_of or utcnow()
    files: dict[str, bytes] = {}
    with Session(engine) as session:
        renderer = SiteRenderer(session, website_id, as_of=as_of)
        for owner in sorted(website_owners(session, website_id, now=as_of)):
            try:
                url = renderer.permalink(owner)
                rendered = renderer.render(owner, aliases=aliases_of(session, website_id, owner, url))
            except Exception:  # an owner that cannot render has no file (its error is on its git_file)
                continue
            if rendered.path is not None:
                assert rendered.content is not None
                files[rendered.path] = rendered.content
    return files


def pending_rows(engine: Engine, website_id: str) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(GitFile).where(
            GitFile.website_id == website_id,
            (GitFile.desynchronized_at.is_not(None)) | (GitFile.identified_at.is_not(None)))) or 0


def git_file_errors(engine: Engine, website_id: str) -> dict[str, str]:
    with Session(engine) as session:
        return {f"{t}:{i}:{lang}": e for t, i, lang, e in session.execute(
            select(GitFile.about_type, GitFile.about_id, GitFile.language, GitFile.error)
            .where(GitFile.website_id == website_id, GitFile.error.is_not(None)))}


class Site:
    """One website, its bare remote, and the three phases run in-process."""

    def __init__(self, tmp: Path, db_url: str, website_id: str = "demo"):
        self.tmp = tmp
        self.db_url = db_url
        self.engine = engine_for(db_url)
        self.website_id = website_id
        self.remote = init_bare(tmp / f"{website_id}.git")
        self.content = copy.deepcopy(small_site(str(self.remote)))
        self.content["websites"][0]["credentials"] = None  # a local remote needs none
        self.content["websites"][0]["id"] = website_id
        self.loads = 0
        # A clock that moves forward on each phase (no sleeping), an hour behind the real
        # one so that a subprocess running on the real clock sees every render as due.
        self.time = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)

    def tick(self, seconds: float = 1.0) -> datetime:
        self.time += timedelta(seconds=seconds)
        return self.time

    def load(self, content: dict | None = None) -> None:
        self.loads += 1
        path = self.tmp / f"fixture-{self.loads}.yaml"
        path.write_text(yaml.safe_dump(content or self.content, allow_unicode=True), encoding="utf-8")
        assert cli(["load", str(path)]) == 0

    def identify(self, *, full: bool = False):
        from osuny_pipeline import pipeline

        return pipeline.identify(self.engine, self.website_id, now=self.tick(), full=full)

    def generate(self) -> GenerationResult:
        return generate_website(self.engine, self.website_id, now=self.tick(), run_id=f"t-{uuid.uuid4().hex[:8]}")

    def sync(self, settings: SyncSettings = SETTINGS, now: Callable[[], datetime] | None = None) -> SyncResult:
        self.tick()
        return sync_website(self.engine, self.website_id, settings=settings, now=now or (lambda: self.time))

    def cycle(self, settings: SyncSettings = SETTINGS) -> SyncResult:
        """identify -> generate -> sync, the clean re-run the promises are about."""
        self.identify()
        self.generate()
        return self.sync(settings)

    def assert_converged(self, *, foreign: dict[str, bytes] | None = None) -> dict[str, bytes]:
        """The remote tree is the rendering of the database byte for byte (plus the foreign
        files, untouched); every git_file is synced; no file waits for generation."""
        expected = expected_files(self.engine, self.website_id, as_of=self.time)
        actual = remote_files(self.remote)
        foreign = foreign or {}
        for path, data in foreign.items():
            assert actual.pop(path, None) == data, f"foreign file {path} changed or vanished"
        missing = sorted(set(expected) - set(actual))
        extra = sorted(set(actual) - set(expected))
        differ = sorted(p for p in set(expected) & set(actual) if expected[p] != actual[p])
        assert not (missing or extra or differ), f"missing {missing[:5]}, extra {extra[:5]}, differ {differ[:5]}"
        assert pending_rows(self.engine, self.website_id) == 0
        with Session(self.engine) as session:
            rows = session.execute(select(GitFile.current_path, GitFile.current_sha, GitFile.previous_path,
                                          GitFile.previous_sha, GitFile.synced_commit)
                                   .where(GitFile.website_id == self.website_id,
                                          GitFile.current_path.is_not(None))).all()
        assert {r.current_path for r in rows} == set(expected)
        for r in rows:
            assert (r.previous_path, r.previous_sha) == (r.current_path, r.current_sha)
            assert r.synced_commit, f"{r.current_path} was never recorded as pushed"
        return expected


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync_module, "BACKOFF_BASE_SECONDS", 0.01)


@pytest.fixture
def site(tmp_path: Path, db_url: str, cli_env: dict[str, str]) -> Site:
    return Site(tmp_path, db_url)


@pytest.fixture
def sqlite_site(tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Site:
    """For promises that do not depend on the database (secrets, Dagster failures): SQLite only."""
    for key, value in {"OSUNY_DATABASE_URL": sqlite_url, "OSUNY_GIT_CACHE": str(tmp_path / "git-cache"),
                       "OSUNY_HOME": str(tmp_path / "osuny-home"), "NO_COLOR": "1"}.items():
        monkeypatch.setenv(key, value)
    return Site(tmp_path, sqlite_url)


@pytest.fixture
def published(site: Site) -> Site:
    site.load()
    site.cycle()
    site.assert_converged()
    return site

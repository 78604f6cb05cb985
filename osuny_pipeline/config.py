"""Configuration from the environment, read when asked (never at import time)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

STATE_DIR_ENV = "OSUNY_HOME"


def state_dir() -> Path:
    """Where the embedded default lives (`.osuny/` in the working directory)."""
    return Path(os.environ.get(STATE_DIR_ENV, ".osuny")).resolve()


def database_url() -> str:
    """The CMS database: OSUNY_DATABASE_URL, or an embedded SQLite file."""
    url = os.environ.get("OSUNY_DATABASE_URL", "").strip()
    if url:
        return url
    return f"sqlite:///{state_dir() / 'cms.db'}"


def git_cache_dir() -> Path:
    """Bare mirrors, one per website: OSUNY_GIT_CACHE, or `.osuny/git-cache`."""
    value = os.environ.get("OSUNY_GIT_CACHE", "").strip()
    return Path(value).resolve() if value else state_dir() / "git-cache"


@dataclass(frozen=True)
class SyncSettings:
    batch_size: int = 100
    author_name: str = "Osuny"
    author_email: str = "osuny@example.org"
    lock_seconds: float = 300.0
    push_retries: int = 5

    @classmethod
    def from_env(cls) -> SyncSettings:
        env = os.environ
        return cls(
            batch_size=int(env.get("OSUNY_SYNC_BATCH_SIZE", cls.batch_size)),
            author_name=env.get("OSUNY_GIT_AUTHOR_NAME", cls.author_name),
            author_email=env.get("OSUNY_GIT_AUTHOR_EMAIL", cls.author_email),
            lock_seconds=float(env.get("OSUNY_LOCK_SECONDS", cls.lock_seconds)),
            push_retries=int(env.get("OSUNY_PUSH_RETRIES", cls.push_retries)),
        )

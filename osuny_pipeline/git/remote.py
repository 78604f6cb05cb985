"""A website's remote: any git URL, parsed once, shown masked, and libgit2's errors
turned into errors a person can act on."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from osuny_pipeline.errors import redact, register_secret
from osuny_pipeline.git.errors import (
    AuthenticationFailed,
    NonFastForward,
    RemoteUnreachable,
    RepositoryNotFound,
    SyncError,
)

# user@host:path (scp-style ssh): no scheme, a colon before any slash.
_SCP_LIKE = re.compile(r"^(?:(?P<user>[^@/]+)@)?(?P<host>[^:/]+):(?P<path>.*)$")


@dataclass(frozen=True)
class RemoteSpec:
    """`url` is what libgit2 is given: it never carries a password (credentials come
    through callbacks), so it can be stored in the mirror's config and printed."""

    url: str
    kind: str  # local | http | ssh | git
    username: str | None = None
    embedded_password: str | None = None  # a password found in the website's URL, kept out of `url`

    @property
    def display(self) -> str:
        return redact(self.url)

    @property
    def is_local(self) -> bool:
        return self.kind == "local"

    @property
    def local_path(self) -> Path | None:
        if not self.is_local:
            return None
        return Path(unquote(urlsplit(self.url).path)) if self.url.startswith("file://") else Path(self.url)


def parse_remote(url: str) -> RemoteSpec:
    """Classify a repository URL: a local path or file://, http(s)://, ssh:// or scp-style, git://."""
    url = url.strip()
    if not url:
        raise RepositoryNotFound("the website has no repository URL")
    if "://" in url:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "file":
            return RemoteSpec(url=url, kind="local")
        kind = {"http": "http", "https": "http", "ssh": "ssh", "git+ssh": "ssh", "ssh+git": "ssh",
                "git": "git"}.get(scheme)
        if kind is None:
            raise RepositoryNotFound(f"unsupported repository URL scheme {scheme!r} in {redact(url)}")
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        register_secret(password)
        netloc = parts.hostname or ""
        if parts.port:
            netloc = f"{netloc}:{parts.port}"
        if username:
            netloc = f"{parts.username}@{netloc}"
        clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
        return RemoteSpec(url=clean, kind=kind, username=username, embedded_password=password)
    match = _SCP_LIKE.match(url)
    # "C:\..." or "./a:b" are local paths, not hosts.
    if match and len(match.group("host")) > 1 and not url.startswith((".", "/")):
        return RemoteSpec(url=url, kind="ssh", username=match.group("user"))
    return RemoteSpec(url=str(Path(url).expanduser().resolve()), kind="local")


_AUTH = ("authentication", "credentials", "status code: 401", "status code: 403", "unauthorized",
         "forbidden", "permission denied (publickey")
_NOT_FOUND = ("status code: 404", "not found", "could not find repository", "does not appear to be a git repository",
              "repository not found", "no such file or directory", "unsupported url protocol")
_UNREACHABLE = ("failed to connect", "could not connect", "connection refused", "failed to resolve",
                "could not resolve", "name or service not known", "timed out", "network is unreachable",
                "no route to host", "ssl", "certificate", "early eof", "connection reset", "broken pipe",
                "failed to send request", "failed to receive response")
_NON_FAST_FORWARD = ("non-fastforward", "non-fast-forward", "not present locally", "fetch first")


def classify_git_error(exc: BaseException, *, website_id: str, remote: RemoteSpec, action: str) -> SyncError:
    """A libgit2 failure as a SyncError subclass with one redacted line naming the website,
    the (masked) remote and what went wrong."""
    if isinstance(exc, SyncError):
        return exc
    reason = redact(" ".join(str(exc).split())) or type(exc).__name__
    lowered = reason.lower()
    prefix = f"website {website_id}: cannot {action} {remote.display}"
    if any(p in lowered for p in _NON_FAST_FORWARD):
        return NonFastForward(f"{prefix}: the remote branch moved ({reason})")
    if any(p in lowered for p in _NOT_FOUND):
        return RepositoryNotFound(f"{prefix}: repository not found ({reason})")
    if any(p in lowered for p in _AUTH):
        return AuthenticationFailed(f"{prefix}: authentication failed ({reason})")
    if any(p in lowered for p in _UNREACHABLE):
        return RemoteUnreachable(f"{prefix}: remote unreachable ({reason})")
    return SyncError(f"{prefix}: {reason}")

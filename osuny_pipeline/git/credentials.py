"""Credentials by reference: the website stores where the secret is, never the secret.

* None: no credentials (a local path, a public remote, or a password in the URL itself);
* ``NAME`` or ``env:NAME``: the environment variable NAME holds an HTTPS token
  (``user:token`` sets both) or, for SSH, a private key's text;
* ``file:/path``: a token file for HTTPS, a private key for SSH (``/path.pub`` beside it
  is used when present).

Secrets reach libgit2 only through `SyncCallbacks.credentials`, never in a URL, and are
registered for redaction as soon as they are read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pygit2
from pygit2.enums import CredentialType

from osuny_pipeline.errors import register_secret
from osuny_pipeline.git.errors import AuthenticationFailed
from osuny_pipeline.git.remote import RemoteSpec

DEFAULT_HTTPS_USERNAME = "x-access-token"  # what GitHub and GitLab accept with a token


@dataclass(frozen=True)
class Credentials:
    username: str | None = None
    token: str | None = field(default=None, repr=False)
    key_path: Path | None = None
    key_text: str | None = field(default=None, repr=False)

    @property
    def empty(self) -> bool:
        return not (self.token or self.key_path or self.key_text)


def resolve_credentials(reference: str | None, remote: RemoteSpec, *, website_id: str | None = None) -> Credentials:
    """Read the secret a website's credentials reference points to."""
    try:
        return _resolve(reference, remote)
    except AuthenticationFailed as exc:
        if website_id is None:
            raise
        raise AuthenticationFailed(f"website {website_id}: {exc}") from None


def _resolve(reference: str | None, remote: RemoteSpec) -> Credentials:
    if not reference or not reference.strip():
        return Credentials(username=remote.username, token=remote.embedded_password)
    reference = reference.strip()
    if reference.startswith("file:"):
        return _from_file(Path(reference[len("file:"):]).expanduser(), remote)
    name = reference[len("env:"):] if reference.startswith("env:") else reference
    value = os.environ.get(name)
    if not value:
        raise AuthenticationFailed(f"credentials: environment variable {name} is not set")
    register_secret(value)
    if remote.kind == "ssh":
        return Credentials(username=remote.username, key_text=value)
    return _token_credentials(value.strip(), remote)


def _from_file(path: Path, remote: RemoteSpec) -> Credentials:
    if not path.is_file():
        raise AuthenticationFailed(f"credentials: file {path} does not exist")
    if remote.kind == "ssh":
        register_secret(path.read_text(encoding="utf-8", errors="replace").strip())
        return Credentials(username=remote.username, key_path=path)
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise AuthenticationFailed(f"credentials: cannot read {path}: {exc.strerror}") from None
    register_secret(value)
    return _token_credentials(value, remote)


def _token_credentials(value: str, remote: RemoteSpec) -> Credentials:
    if ":" in value:
        username, token = value.split(":", 1)
        register_secret(token)
        return Credentials(username=username, token=token)
    return Credentials(username=remote.username, token=value)


class SyncCallbacks(pygit2.RemoteCallbacks):
    """Hands credentials to libgit2 once (a second request means they were refused) and
    collects server-side rejections, which libgit2 reports here rather than by raising."""

    def __init__(self, credentials: Credentials, *, website_id: str, remote: RemoteSpec):
        super().__init__()
        self._creds = credentials
        self._website_id = website_id
        self._remote = remote
        self._asked = 0
        self.rejections: dict[str, str] = {}

    def credentials(self, url: str, username_from_url: str | None, allowed_types: CredentialType):
        self._asked += 1
        prefix = f"website {self._website_id}: cannot authenticate to {self._remote.display}"
        if self._asked > 1:
            raise AuthenticationFailed(f"{prefix}: the server rejected the credentials")
        creds = self._creds
        if allowed_types & CredentialType.USERPASS_PLAINTEXT and creds.token:
            return pygit2.UserPass(creds.username or username_from_url or DEFAULT_HTTPS_USERNAME, creds.token)
        if allowed_types & CredentialType.SSH_KEY:
            username = creds.username or username_from_url or "git"
            if creds.key_path:
                pub = Path(f"{creds.key_path}.pub")
                return pygit2.Keypair(username, str(pub) if pub.is_file() else None, str(creds.key_path), "")
            if creds.key_text:
                return pygit2.KeypairFromMemory(username, None, creds.key_text, "")
            return pygit2.KeypairFromAgent(username)
        if allowed_types & CredentialType.USERNAME:
            return pygit2.Username(creds.username or username_from_url or "git")
        raise AuthenticationFailed(f"{prefix}: the server requires credentials and none are configured")

    def push_update_reference(self, refname: str, message: str | None) -> None:
        if message:
            self.rejections[refname] = message

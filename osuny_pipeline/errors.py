"""Errors users see, and the redaction that keeps secrets out of them."""

from __future__ import annotations

import re
from collections.abc import Iterable

# user:password@ in any URL-ish string.
_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/@\s]+)@")


class OsunyError(Exception):
    """An error with a message fit for one line in a terminal or the Dagster UI."""


class ConfigurationError(OsunyError):
    pass


class FixtureError(OsunyError):
    pass


def mask_url(url: str) -> str:
    """`postgresql://user:secret@host/db` -> `postgresql://user:***@host/db`."""

    def _mask(m: re.Match[str]) -> str:
        user = m.group("userinfo").split(":", 1)[0]
        return f"{m.group('scheme')}{user}:***@" if ":" in m.group("userinfo") else f"{m.group('scheme')}***@"

    return _URL_USERINFO.sub(_mask, url)


_registered_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret so that `redact` removes it from anything we print or store."""
    if value and len(value) >= 4:
        _registered_secrets.add(value)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove every known secret and URL password from a text."""
    out = mask_url(text)
    for secret in sorted({*_registered_secrets, *secrets}, key=len, reverse=True):
        if secret:
            out = out.replace(secret, "***")
    return out


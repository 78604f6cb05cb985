"""The sync's errors: one clear line each, never a secret (messages go through `redact`)."""

from __future__ import annotations

from osuny_pipeline.errors import OsunyError


class SyncError(OsunyError):
    """Synchronizing a website with its repository failed; nothing was marked synced."""


class RemoteUnreachable(SyncError):
    pass


class AuthenticationFailed(SyncError):
    pass


class RepositoryNotFound(SyncError):
    pass


class BranchNotFound(SyncError):
    """The remote has branches, but not the website's (a typo would otherwise publish an
    orphan branch next to the real one)."""


class PushRejected(SyncError):
    """The server refused the update (protected branch, hook...)."""


class NonFastForward(SyncError):
    """The remote moved since our fetch: internal, the sync fetches and retries."""


class WebsiteBusy(SyncError):
    """Another worker holds this website's lease."""


class CacheUnavailable(SyncError):
    """The git cache folder cannot be written (read-only, not a directory...)."""


class LeaseLost(SyncError):
    """Our lease expired and another worker took the website over: stop before pushing."""

"""Dagster resources: thin handles on the CMS database and the sync settings.

Values left unset fall back to the environment that the CLI reads too
(OSUNY_DATABASE_URL, OSUNY_SYNC_BATCH_SIZE, ...), so one configuration serves both."""


from dagster import ConfigurableResource
from sqlalchemy import Engine

from osuny_pipeline.config import SyncSettings


class CmsDatabase(ConfigurableResource):
    """The CMS database (content, change log, git_files). `url` defaults to OSUNY_DATABASE_URL."""

    url: str | None = None

    def engine(self) -> Engine:
        from osuny_pipeline.cms.db import get_engine

        return get_engine(self.url)


class GitSync(ConfigurableResource):
    """Sync settings; None means "from the environment, else the default"."""

    batch_size: int | None = None
    author_name: str | None = None
    author_email: str | None = None
    lock_seconds: float | None = None

    def settings(self) -> SyncSettings:
        base = SyncSettings.from_env()
        overrides = {k: v for k, v in {
            "batch_size": self.batch_size, "author_name": self.author_name,
            "author_email": self.author_email, "lock_seconds": self.lock_seconds,
        }.items() if v is not None}
        return SyncSettings(**{**base.__dict__, **overrides})

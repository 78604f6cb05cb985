"""Asset checks on synced_commit, over every website (one evaluation lists the offenders):
- the remote head equals the commit we last recorded (someone pushed, or a push was lost);
- no desynchronized file is older than a threshold (a stuck website), as a warning."""


import os

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    MetadataValue,
    asset_check,
)

from osuny_pipeline.defs.assets import SYNCED_COMMIT
from osuny_pipeline.defs.resources import CmsDatabase

STALE_AFTER_SECONDS = float(os.environ.get("OSUNY_STALE_DESYNC_SECONDS", "3600"))
MAX_LISTED = 50


@asset_check(asset=SYNCED_COMMIT, description="Each website's remote branch head equals its last recorded commit.")
def remote_head_matches_recorded_commit(context: AssetCheckExecutionContext, cms: CmsDatabase) -> AssetCheckResult:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from osuny_pipeline.cms.models import Website, WebsiteState
    from osuny_pipeline.errors import OsunyError, redact
    from osuny_pipeline.git.mirror import remote_head

    mismatched: dict[str, str] = {}
    checked = 0
    with Session(cms.engine()) as session:
        rows = session.execute(select(Website, WebsiteState.last_commit_sha)
                               .join(WebsiteState, WebsiteState.website_id == Website.id)
                               .where(WebsiteState.last_commit_sha.is_not(None))).all()
        for website, recorded in rows:
            checked += 1
            try:
                head = remote_head(website)
            except OsunyError as exc:
                mismatched[website.id] = f"remote unreadable: {redact(str(exc))}"
                continue
            if head != recorded:
                mismatched[website.id] = f"remote head {head or 'missing'} != recorded {recorded}"
    listed = dict(sorted(mismatched.items())[:MAX_LISTED])
    return AssetCheckResult(
        passed=not mismatched,
        metadata={"websites_checked": checked, "mismatched": len(mismatched),
                  "details": MetadataValue.json(listed)},
        description=None if not mismatched else f"{len(mismatched)} website(s) differ from their remote",
    )


@asset_check(asset=SYNCED_COMMIT, description="No generated file waits for sync longer than the threshold "
             "(OSUNY_STALE_DESYNC_SECONDS, default 1 h).")
def no_stale_desynchronized_file(context: AssetCheckExecutionContext, cms: CmsDatabase) -> AssetCheckResult:
    from sqlalchemy.orm import Session

    from osuny_pipeline.cms.models import utcnow
    from osuny_pipeline.status import pending_by_website

    now = utcnow()
    with Session(cms.engine()) as session:
        pending = pending_by_website(session)
    stale = {key: round((now - oldest).total_seconds()) for key, (count, oldest) in pending.items()
             if oldest is not None and (now - oldest).total_seconds() > STALE_AFTER_SECONDS}
    return AssetCheckResult(
        passed=not stale,
        severity=AssetCheckSeverity.WARN,
        metadata={"threshold_seconds": STALE_AFTER_SECONDS, "stale_websites": len(stale),
                  "oldest_age_seconds": MetadataValue.json(dict(sorted(stale.items())[:MAX_LISTED])),
                  "pending_files": sum(count for count, _ in pending.values())},
    )

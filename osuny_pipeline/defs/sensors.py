"""Sensors: keep partitions equal to the websites table, react to the change log, show the
pending counts, make failing websites visible. No rendering or pushing here: a tick
must stay far below Dagster's 60 s limit, so each does a few grouped queries."""


import json
import os

from dagster import (
    AssetObservation,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from osuny_pipeline.cms.models import utcnow
from osuny_pipeline.defs.assets import SYNCED_COMMIT, WATERMARK_TAG
from osuny_pipeline.defs.jobs import WEBSITE_TAG, rebuild_job, render_job, sync_job
from osuny_pipeline.defs.partitions import websites
from osuny_pipeline.defs.resources import CmsDatabase

# More dirty websites than this in one tick (a template or shared-person change): one
# batched range run instead of a run per website.
BURST_THRESHOLD = 25
IN_FLIGHT = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
             DagsterRunStatus.STARTED]
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def change_lag():
    """How old a change row must be before it is consumed (OSUNY_CHANGE_LAG_SECONDS, default 5)."""
    from datetime import timedelta

    return timedelta(seconds=float(os.environ.get("OSUNY_CHANGE_LAG_SECONDS", "5")))


@sensor(job=render_job, minimum_interval_seconds=300, default_status=DefaultSensorStatus.RUNNING,
        description="Keeps the `websites` partitions equal to the CMS websites table.")
def website_registry_sensor(context: SensorEvaluationContext, cms: CmsDatabase):
    from sqlalchemy.orm import Session

    from osuny_pipeline.websites import website_keys

    with Session(cms.engine()) as session:
        wanted = set(website_keys(session))
    known = set(context.instance.get_dynamic_partitions(websites.name))
    added, removed = sorted(wanted - known), sorted(known - wanted)
    if not added and not removed:
        return SkipReason(f"{len(known)} websites, none added or removed")
    requests = []
    if added:
        requests.append(websites.build_add_request(added))
    if removed:
        requests.append(websites.build_delete_request(removed))
    context.log.info(f"websites added: {added or '-'}; removed: {removed or '-'}")
    return SensorResult(dynamic_partitions_requests=requests)


def in_flight_websites(context: SensorEvaluationContext, job_name: str) -> set[str]:
    """Websites that already have a queued or running run of `job_name` (one query).
    That run reads every change up to its start, so asking again would be a no-op."""
    records = context.instance.get_run_records(filters=RunsFilter(job_name=job_name, statuses=IN_FLIGHT))
    busy: set[str] = set()
    for record in records:
        tags = record.dagster_run.tags
        if WEBSITE_TAG in tags:
            busy.add(tags[WEBSITE_TAG])
        elif RANGE_START in tags:
            busy.add("*")  # a batched run covers websites by range: treat as covering all
    return busy


def website_requests(keys: list[str], *, run_key_prefix: str, marks: dict[str, int | str],
                     all_keys: list[str], tags: dict[str, str] | None = None) -> list[RunRequest]:
    """One run per website, or one batched range run when there are many."""
    tags = dict(tags or {})
    if len(keys) <= BURST_THRESHOLD:
        return [RunRequest(partition_key=key, run_key=f"{run_key_prefix}:{key}:{marks[key]}",
                           tags={**tags, WEBSITE_TAG: key}) for key in keys]
    order = {key: i for i, key in enumerate(all_keys)}
    ordered = sorted(keys, key=lambda k: order.get(k, len(order)))
    top = max(str(v) for v in marks.values())
    return [RunRequest(run_key=f"{run_key_prefix}:batch:{ordered[0]}:{ordered[-1]}:{top}",
                       tags={**tags, RANGE_START: ordered[0], RANGE_END: ordered[-1]})]


@sensor(job=render_job, minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING,
        description="Reads the CMS change log and asks identification + generation for dirty websites.")
def cms_change_sensor(context: SensorEvaluationContext, cms: CmsDatabase):
    from sqlalchemy.orm import Session

    from osuny_pipeline.changes import dirty_websites

    with Session(cms.engine()) as session:
        found = dirty_websites(session, utcnow(), lag=change_lag())
    cursor = json.dumps({"v": 1, "watermark": found.watermark})
    known = context.instance.get_dynamic_partitions(websites.name)
    busy = in_flight_websites(context, render_job.name)
    dirty = [key for key in found.dirty if key in set(known) and key not in busy and "*" not in busy]
    if not dirty:
        reason = "no unidentified change" if not found.dirty else (
            f"{len(found.dirty)} dirty website(s) already queued or not yet registered")
        return SensorResult(skip_reason=reason, cursor=cursor)
    requests = website_requests(dirty, run_key_prefix="changes", marks=found.dirty, all_keys=known,
                                tags={WATERMARK_TAG: str(found.watermark)})
    context.log.info(f"{len(dirty)} dirty website(s) up to change {found.watermark}: {len(requests)} run(s)")
    return SensorResult(run_requests=requests, cursor=cursor)


# Every minute, out of phase with the ten-minute sync (which would always find zero just
# after it ran); it records an observation only when a website's count changes.
@sensor(minimum_interval_seconds=60, default_status=DefaultSensorStatus.RUNNING,
        description="Records each website's pending files (count, oldest age) as observations of "
                    "synced_commit, so the UI shows them before anyone clicks, over time.")
def pending_files_sensor(context: SensorEvaluationContext, cms: CmsDatabase):
    from sqlalchemy.orm import Session

    from osuny_pipeline.status import pending_by_website, pending_for_display

    now = utcnow()
    previous = json.loads(context.cursor) if context.cursor else {}
    current: dict[str, int] = {}
    events = []
    with Session(cms.engine()) as session:
        pending = pending_by_website(session)
        for key in context.instance.get_dynamic_partitions(websites.name):
            count, oldest = pending.get(key, (0, None))
            if count:  # files a running sync already took are not counted again
                count, oldest = pending_for_display(session, key)
            current[key] = count
            if count == previous.get(key) and count == 0:
                continue  # keep the event log small: a clean website reports once
            age = round((now - oldest).total_seconds(), 1) if oldest else 0.0
            events.append(AssetObservation(asset_key=SYNCED_COMMIT, partition=key, metadata={
                "pending_files": count, "oldest_desync_age_seconds": age}))
    return SensorResult(asset_events=events, cursor=json.dumps(current, sort_keys=True),
                        skip_reason=None if events else "every website clean and already reported")


@run_failure_sensor(monitored_jobs=[render_job, sync_job, rebuild_job], default_status=DefaultSensorStatus.RUNNING,
                    description="Records a failed run on its website(s), so `status` and the checks show it.")
def website_run_failure_sensor(context: RunFailureSensorContext, cms: CmsDatabase):
    from osuny_pipeline.errors import OsunyError, redact
    from osuny_pipeline.git.state import record_failure

    run = context.dagster_run
    key = run.tags.get(WEBSITE_TAG) or run.tags.get("dagster/partition")
    message = redact(f"run {run.run_id[:8]} ({run.job_name}) failed: "
                     f"{context.failure_event.message or 'see the run logs'}")[:2000]
    context.log.error(f"website {key or '(batch)'}: {message}")
    if not key:
        return
    # The phase's own error, when it recorded one, says more than "the run failed".
    record_failure(cms.engine(), key, OsunyError(message), utcnow(), keep_existing=True)

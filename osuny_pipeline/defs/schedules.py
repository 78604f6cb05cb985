"""Schedules: the ten-minute sync and the nightly clean-and-rebuild (UTC)."""


from dagster import DefaultScheduleStatus, ScheduleEvaluationContext, SkipReason, schedule

from osuny_pipeline.defs.assets import FULL_REBUILD_TAG
from osuny_pipeline.defs.jobs import rebuild_job, sync_job
from osuny_pipeline.defs.partitions import websites
from osuny_pipeline.defs.resources import CmsDatabase
from osuny_pipeline.defs.sensors import RANGE_END, RANGE_START, website_requests


@schedule(job=sync_job, cron_schedule="*/10 * * * *", execution_timezone="UTC",
          default_status=DefaultScheduleStatus.RUNNING,
          description="Every 10 minutes: sync the websites that have generated, desynchronized files.")
def sync_schedule(context: ScheduleEvaluationContext, cms: CmsDatabase):
    from sqlalchemy.orm import Session

    from osuny_pipeline.status import pending_by_website

    keys = context.instance.get_dynamic_partitions(websites.name)
    with Session(cms.engine()) as session:
        pending = pending_by_website(session)
    dirty = {key: pending[key][0] for key in keys if key in pending}
    if not dirty:
        return SkipReason(f"none of {len(keys)} websites has desynchronized files")
    tick = context.scheduled_execution_time.strftime("%Y%m%dT%H%M")
    return website_requests(sorted(dirty), run_key_prefix="sync", marks={k: tick for k in dirty}, all_keys=keys)


@schedule(job=rebuild_job, cron_schedule="0 2 * * *", execution_timezone="UTC",
          default_status=DefaultScheduleStatus.RUNNING,
          description="Nightly: read every remote tree, repair drift, list orphans, regenerate, sync.")
def nightly_rebuild_schedule(context: ScheduleEvaluationContext):
    keys = context.instance.get_dynamic_partitions(websites.name)
    if not keys:
        return SkipReason("no website yet")
    from dagster import RunRequest

    day = context.scheduled_execution_time.strftime("%Y%m%d")
    # One batched run over every website: the step goes through them one by one, a failing
    # website is recorded on it and does not stop the others.
    return RunRequest(run_key=f"rebuild:{day}",
                      tags={RANGE_START: keys[0], RANGE_END: keys[-1], FULL_REBUILD_TAG: "true"})

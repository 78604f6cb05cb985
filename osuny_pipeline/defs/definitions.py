"""The code location: `dagster dev -w workspace.yaml` loads `defs` from here.

Nothing runs at import time: resources read the environment when a run or tick starts."""

from dagster import DefaultScheduleStatus, Definitions, ScheduleDefinition, in_process_executor

from osuny_pipeline.defs.assets import website_pipeline
from osuny_pipeline.defs.checks import no_stale_desynchronized_file, remote_head_matches_recorded_commit
from osuny_pipeline.defs.jobs import health_job, rebuild_job, render_job, sync_job
from osuny_pipeline.defs.resources import CmsDatabase, GitSync
from osuny_pipeline.defs.schedules import nightly_rebuild_schedule, sync_schedule
from osuny_pipeline.defs.sensors import (
    cms_change_sensor,
    pending_files_sensor,
    website_registry_sensor,
    website_run_failure_sensor,
)

health_schedule = ScheduleDefinition(
    name="health_schedule", job=health_job, cron_schedule="5 * * * *", execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Hourly: run the synced_commit checks over every website.",
)

defs = Definitions(
    assets=[website_pipeline],
    asset_checks=[remote_head_matches_recorded_commit, no_stale_desynchronized_file],
    jobs=[render_job, sync_job, rebuild_job, health_job],
    sensors=[website_registry_sensor, cms_change_sensor, pending_files_sensor, website_run_failure_sensor],
    schedules=[sync_schedule, nightly_rebuild_schedule, health_schedule],
    resources={"cms": CmsDatabase(), "git": GitSync()},
    # One step per run: no point in a process per step.
    executor=in_process_executor,
)

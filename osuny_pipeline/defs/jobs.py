"""Jobs over the website partitions: what sensors, schedules and people launch."""

from dagster import AssetSelection, define_asset_job

from osuny_pipeline.defs.assets import DEPENDENCY_GRAPH, FULL_REBUILD_TAG, GIT_FILES, SYNCED_COMMIT

# A website's lane: its runs queue behind each other (dagster.yaml limits runs per
# `osuny/website` tag value to one), on top of the database lease lock taken by sync.
WEBSITE_TAG = "osuny/website"

# Identification + generation: launched by the change sensor, never pushes.
render_job = define_asset_job(
    "render_job", selection=AssetSelection.assets(DEPENDENCY_GRAPH, GIT_FILES).without_checks(),
    description="Identify and generate the files of websites whose content changed.",
)

# Sync: launched every 10 minutes for websites with desynchronized files, and by hand.
sync_job = define_asset_job(
    "sync_job", selection=AssetSelection.assets(SYNCED_COMMIT).without_checks(),
    description="Push the desynchronized files of websites: chained commits, one push each (never forced).",
)

# Nightly clean-and-rebuild: remote refresh + full identification + generation + sync.
rebuild_job = define_asset_job(
    "rebuild_job", selection=AssetSelection.assets(DEPENDENCY_GRAPH, GIT_FILES, SYNCED_COMMIT).without_checks(),
    run_tags={FULL_REBUILD_TAG: "true"},
    description="Read each remote tree, repair drift, list orphans, regenerate and sync everything.",
)

# The checks run on their own (hourly): in the jobs above they would only be skipped,
# since the multi-asset reports per-website materializations rather than outputs.
health_job = define_asset_job(
    "health_job", selection=AssetSelection.checks_for_assets(SYNCED_COMMIT),
    description="Checks every website: remote head equals the recorded commit; no stale desynchronized file.",
)

"""The three assets of a website partition: dependency_graph -> git_files -> synced_commit.

State lives in the CMS database, never in IO-manager payloads. The three are one
subsettable multi-asset step (one process per run, no hand-over through storage): a run
may select any of them (the UI's "Materialize" of `synced_commit` is the manual sync),
and may cover one website or a range of websites (batched runs from the sensor and the
schedules). Each processed website gets its own materialization events with small,
useful metadata; a website with nothing to do in a batched run gets none.

Failure semantics: in a one-website run a failure fails the run (visible, retryable in
the UI). In a batched run one website's failure is recorded on it (`status`, the run
failure sensor, the checks) and the others go on: raising would mark every website of
the range failed.
"""



from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    AssetSpec,
    BackfillPolicy,
    Config,
    Failure,
    MetadataValue,
    TableColumn,
    TableRecord,
    TableSchema,
    multi_asset,
)

from osuny_pipeline.cms.models import utcnow
from osuny_pipeline.defs.partitions import websites
from osuny_pipeline.defs.resources import CmsDatabase, GitSync

DEPENDENCY_GRAPH = AssetKey("dependency_graph")
GIT_FILES = AssetKey("git_files")
SYNCED_COMMIT = AssetKey("synced_commit")
WATERMARK_TAG = "osuny/watermark"
# The nightly clean-and-rebuild: a run tag (set by rebuild_job and its schedule), so it
# holds for partition ranges too, where job-level default config is not applied.
FULL_REBUILD_TAG = "osuny/full_rebuild"
MAX_TABLE_ROWS = 100

FILES_SCHEMA = TableSchema(columns=[
    TableColumn("path", "string"), TableColumn("owner", "string"),
    TableColumn("action", "string"), TableColumn("sha", "string"),
])


def _templates_version() -> str:
    from osuny_pipeline.render.renderer import TEMPLATES_VERSION

    return TEMPLATES_VERSION


class PipelineConfig(Config):
    full_rebuild: bool = False
    """Nightly clean-and-rebuild: read the remote tree (drift, orphans) and identify every file."""


def files_table(rows) -> MetadataValue:
    records = [TableRecord({"path": r.path, "owner": r.owner, "action": r.action, "sha": r.sha or ""})
               for r in rows[:MAX_TABLE_ROWS]]
    return MetadataValue.table(records=records, schema=FILES_SCHEMA)


@multi_asset(
    name="website_pipeline",
    specs=[
        AssetSpec(
            DEPENDENCY_GRAPH, skippable=True, group_name="osuny", kinds={"sql"},
            description="Phase 1, identification: change log -> connections and the deduplicated set of "
                        "git_files to regenerate.",
        ),
        AssetSpec(
            GIT_FILES, deps=[DEPENDENCY_GRAPH], skippable=True, group_name="osuny", kinds={"jinja"},
            code_version=_templates_version(),
            description="Phase 2, generation: render identified files, store what changed with its blob SHA, "
                        "mark it desynchronized.",
        ),
        AssetSpec(
            SYNCED_COMMIT, deps=[GIT_FILES], skippable=True, group_name="osuny", kinds={"git"},
            description="Phase 3, synchronization: desynchronized files -> chained commits of batch_size "
                        "files, pushed once (never forced). Materialize one website here to sync it now.",
        ),
    ],
    partitions_def=websites,
    can_subset=True,
    backfill_policy=BackfillPolicy.single_run(),
)
def website_pipeline(context: AssetExecutionContext, config: PipelineConfig, cms: CmsDatabase, git: GitSync):
    from osuny_pipeline.errors import OsunyError, redact

    engine = cms.engine()
    selected = context.selected_asset_keys
    keys = context.partition_keys
    one_website = len(keys) == 1
    watermark = context.run.tags.get(WATERMARK_TAG)
    full_rebuild = config.full_rebuild or context.run.tags.get(FULL_REBUILD_TAG) == "true"
    failures: dict[str, str] = {}
    for key in keys:
        try:
            if DEPENDENCY_GRAPH in selected:
                yield from _identify(context, engine, key, full_rebuild,
                                     int(watermark) if watermark else None, one_website)
            if GIT_FILES in selected:
                yield from _generate(context, engine, key, one_website)
            if SYNCED_COMMIT in selected:
                yield from _sync(context, engine, key, git, one_website)
        except OsunyError as exc:
            message = redact(str(exc))
            failures[key] = message
            context.log.error(message if message.startswith(f"website {key}") else f"website {key}: {message}")
            _record_error(engine, key, message)
    if failures and one_website:
        [(key, message)] = failures.items()
        if not message.startswith(f"website {key}"):
            message = f"website {key}: {message}"
        raise Failure(description=message, metadata={"website": key})
    if failures:
        context.log.warning(f"{len(failures)} website(s) failed in this batch: {', '.join(sorted(failures))}")


def _identify(context, engine, key: str, full: bool, upto: int | None, always: bool):
    from osuny_pipeline import pipeline

    now = utcnow()
    if full:
        from osuny_pipeline.git.refresh import rebuild_website

        # Under the website's lease: read the remote tree (drift, orphans), identify everything.
        refreshed, result = rebuild_website(engine, key, now=lambda: now)
        extra = {"orphans": len(getattr(refreshed, "orphans", []) or []),
                 "drifted": getattr(refreshed, "drifted", 0)}
    else:
        result = pipeline.identify(engine, key, now=now, upto=upto)
        extra = {}
    if always or result.owners or result.changes_read:
        yield AssetMaterialization(asset_key=DEPENDENCY_GRAPH, partition=key, metadata={
            "changes_read": result.changes_read, "objects": result.objects,
            "identified": len(result.owners), "connections_added": result.connections_added,
            "connections_removed": result.connections_removed, "change_cursor": result.cursor,
            "full_rebuild": full, **extra,
        })


def _generate(context, engine, key: str, always: bool):
    from sqlalchemy.orm import Session

    from osuny_pipeline.render.generate import generate_website
    from osuny_pipeline.status import pending_files

    now = utcnow()
    result = generate_website(engine, key, now=now, run_id=context.run.run_id)
    if not (always or result.rendered or result.failed):
        return
    with Session(engine) as session:
        pending, oldest = pending_files(session, key)
    for owner, error in sorted(result.failed.items())[:20]:
        context.log.warning(f"website {key}: {owner} failed to render: {error}")
    yield AssetMaterialization(asset_key=GIT_FILES, partition=key, metadata={
        "rendered": result.rendered, "changed": result.changed, "unchanged": result.unchanged,
        "to_delete": result.deleted, "dropped": result.dropped, "failed": len(result.failed),
        "desynchronized": pending,
        "oldest_desync_age_seconds": round((now - oldest).total_seconds(), 1) if oldest else 0.0,
        "seconds": round(result.seconds, 3),
        "changed_files": files_table(result.changes),
        "changed_files_listed": f"{min(len(result.changes), MAX_TABLE_ROWS)} of {result.changed + result.deleted}",
        "dagster/row_count": result.changed,
    })


def _sync(context, engine, key: str, git: GitSync, always: bool):
    from osuny_pipeline.git.sync import sync_website
    from osuny_pipeline.render.generate import FileChange
    from osuny_pipeline.status import pending_files

    if not always:
        from sqlalchemy.orm import Session

        with Session(engine) as session:
            if pending_files(session, key)[0] == 0:
                return  # a batched run: nothing to push for this website, no event
    result = sync_website(engine, key, settings=git.settings(), owner=f"dagster:{context.run.run_id}")
    files = [FileChange(path, owner, action, sha) for path, owner, action, sha in result.files]
    metadata = {
        # With nothing to push, the remote head we last recorded: the latest event always
        # shows which commit the website is at.
        "commit": result.commit or _recorded_head(engine, key) or "", "pushed": result.pushed, "files": len(files),
        "batches": result.batches, "marked_synced": result.marked_synced, "stale": result.stale,
        "pushed_files": files_table(files), "dagster/row_count": len(files),
        "pushed_files_listed": f"{min(len(files), MAX_TABLE_ROWS)} of {len(files)}",
    }
    metadata.update({f"{action}": count for action, count in sorted(result.counts.items())})
    yield AssetMaterialization(asset_key=SYNCED_COMMIT, partition=key, metadata=metadata)


def _recorded_head(engine, key: str) -> str | None:
    from sqlalchemy.orm import Session

    from osuny_pipeline.cms.models import WebsiteState

    with Session(engine) as session:
        state = session.get(WebsiteState, key)
        return state.last_commit_sha if state else None


def _record_error(engine, key: str, message: str) -> None:
    from osuny_pipeline.errors import OsunyError
    from osuny_pipeline.git.state import record_failure

    record_failure(engine, key, OsunyError(message), utcnow())

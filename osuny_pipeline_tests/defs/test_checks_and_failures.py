"""The synced_commit checks, the run-failure sensor, and the loop on a Dagster instance
stored in PostgreSQL (dagster-postgres)."""

from __future__ import annotations

import subprocess
import uuid
from datetime import UTC, datetime

from dagster import DagsterEventType, build_run_status_sensor_context, instance_for_test
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import WebsiteState
from osuny_pipeline.defs.definitions import defs
from osuny_pipeline.defs.sensors import website_run_failure_sensor
from osuny_pipeline_tests.conftest import PG_BASE, require_pg
from osuny_pipeline_tests.defs.test_loop import Loop, git


def check_results(loop: Loop) -> dict[str, object]:
    result = defs.resolve_job_def("health_job").execute_in_process(instance=loop.instance)
    assert result.success
    evaluations = [event.event_specific_data for event in result.all_events
                   if event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION]
    return {evaluation.check_name: evaluation for evaluation in evaluations}


def publish(loop: Loop) -> None:
    loop.load()
    loop.register()
    for request in loop.changes():
        assert loop.run("render_job", request).success
    for request in loop.sync_tick():
        assert loop.run("sync_job", request).success


def test_checks_pass_after_a_sync_and_catch_a_foreign_push(loop, tmp_path):
    publish(loop)
    checks = check_results(loop)
    assert checks["remote_head_matches_recorded_commit"].passed
    assert checks["no_stale_desynchronized_file"].passed

    work = tmp_path / "foreign"
    subprocess.run(["git", "clone", "-q", str(loop.remote), str(work)], check=True)
    (work / "README.md").write_text("someone else\n")
    subprocess.run(["git", "-C", str(work), "add", "README.md"], check=True)
    subprocess.run(["git", "-C", str(work), "-c", "user.name=x", "-c", "user.email=x@example.org",
                    "commit", "-qm", "foreign"], check=True)
    subprocess.run(["git", "-C", str(work), "push", "-q", "origin", "HEAD:main"], check=True)
    checks = check_results(loop)
    assert not checks["remote_head_matches_recorded_commit"].passed
    assert "demo" in str(checks["remote_head_matches_recorded_commit"].metadata["details"].value)


def test_stale_desynchronized_files_are_a_warning(loop, monkeypatch):
    loop.load()
    loop.register()
    for request in loop.changes():
        loop.run("render_job", request)
    monkeypatch.setattr("osuny_pipeline.defs.checks.STALE_AFTER_SECONDS", -1.0)
    stale = check_results(loop)["no_stale_desynchronized_file"]
    assert not stale.passed
    assert stale.severity.value == "WARN"
    assert stale.metadata["stale_websites"].value == 1


def test_a_failed_run_is_recorded_on_its_website(loop):
    loop.content["websites"][0]["repository"] = str(loop.tmp / "missing.git")
    loop.load()
    loop.register()
    for request in loop.changes():
        loop.run("render_job", request)
    [request] = loop.sync_tick()
    result = loop.run("sync_job", request)
    assert not result.success
    with Session(loop.cms.engine()) as session:  # the phase recorded its own error...
        session.get(WebsiteState, "demo").last_error = None
        session.commit()
    failure = next(e for e in result.all_events if e.event_type == DagsterEventType.RUN_FAILURE)
    context = build_run_status_sensor_context(
        sensor_name="website_run_failure_sensor", dagster_event=failure, dagster_instance=loop.instance,
        dagster_run=result.dagster_run, resources={"cms": loop.cms},
    ).for_run_failure()
    website_run_failure_sensor(context)
    with Session(loop.cms.engine()) as session:  # ...and the sensor records the run's failure
        error = session.get(WebsiteState, "demo").last_error
    assert error and "sync_job" in error and "failed" in error


def test_the_loop_on_a_dagster_instance_in_postgresql(tmp_path, pg_url, monkeypatch):
    """Production-like: the CMS and Dagster's own storage (dagster-postgres) both in PostgreSQL."""
    require_pg()
    monkeypatch.setenv("OSUNY_DATABASE_URL", pg_url)
    monkeypatch.setenv("OSUNY_GIT_CACHE", str(tmp_path / "git-cache"))
    name = f"dagster_{uuid.uuid4().hex[:10]}"
    admin = create_engine(f"{PG_BASE}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{PG_BASE.replace('+psycopg', '')}/{name}"
    monkeypatch.setenv("OSUNY_CHANGE_LAG_SECONDS", "0")
    try:
        with instance_for_test(overrides={"storage": {"postgres": {"postgres_url": url}}}) as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            loop = Loop(tmp_path, pg_url, instance)
            publish(loop)
            assert git(loop.remote, "rev-list", "--count", "main").strip() == "1"
            assert loop.changes() == []
            runs = instance.get_runs()
            assert {r.job_name for r in runs} == {"render_job", "sync_job"}
            assert all(r.is_success for r in runs)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_the_nightly_rebuild_repairs_drift_and_lists_orphans(loop, tmp_path):
    from dagster import build_schedule_context

    from osuny_pipeline.defs.schedules import nightly_rebuild_schedule

    publish(loop)
    path = "content/fr/posts/2025/2025-01-07-colloque-les-vacances.html"
    good = git(loop.remote, "show", f"main:{path}")
    work = tmp_path / "foreign"
    subprocess.run(["git", "clone", "-q", str(loop.remote), str(work)], check=True)
    (work / path).write_text("---\ntitle: edited by hand\n---\n")
    (work / "content" / "fr" / "orphan.html").write_text("---\ntitle: not ours\n---\n")
    subprocess.run(["git", "-C", str(work), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(work), "-c", "user.name=x", "-c", "user.email=x@example.org",
                    "commit", "-qm", "hand edit"], check=True)
    subprocess.run(["git", "-C", str(work), "push", "-q", "origin", "HEAD:main"], check=True)

    context = build_schedule_context(instance=loop.instance,
                                     scheduled_execution_time=datetime(2026, 12, 4, 2, tzinfo=UTC))
    request = nightly_rebuild_schedule(context)
    result = loop.run("rebuild_job", request)
    assert result.success
    [graph] = [m for m in result.asset_materializations_for_node("website_pipeline")
               if m.asset_key.to_user_string() == "dependency_graph"]
    assert graph.metadata["full_rebuild"].value is True and graph.metadata["orphans"].value == 1
    assert git(loop.remote, "show", f"main:{path}") == good
    assert "content/fr/orphan.html" in git(loop.remote, "ls-tree", "-r", "--name-only", "main")
    with Session(loop.cms.engine()) as session:
        assert session.get(WebsiteState, "demo").orphans == ["content/fr/orphan.html"]

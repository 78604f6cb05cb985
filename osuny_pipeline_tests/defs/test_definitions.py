"""The code location loads through Dagster's own loader, and the deploy files say what
production needs: our module, PostgreSQL storage, one run per website."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from osuny_pipeline_tests.conftest import PG_BASE, require_pg

ROOT = Path(__file__).resolve().parents[2]
DAGSTER = str(Path(sys.executable).parent / "dagster")
# One run per website: by our tag (sensor and schedule runs) and by partition (UI runs).
PER_WEBSITE_LIMITS = [
    {"key": "osuny/website", "value": {"applyLimitPerUniqueValue": True}, "limit": 1},
    {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1},
]


def run_dagster(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([DAGSTER, *args], cwd=cwd, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=180)


def test_definitions_load_from_workspace_yaml(tmp_path):
    result = run_dagster("definitions", "validate", "-w", "workspace.yaml",
                         env={"DAGSTER_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "osuny_pipeline" in result.stdout + result.stderr


def test_the_definitions_expose_the_three_assets_and_the_automation():
    from osuny_pipeline.defs.definitions import defs

    repo = defs.get_repository_def()
    assert sorted(k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()) == [
        "dependency_graph", "git_files", "synced_commit"]
    assert sorted(s.name for s in repo.sensor_defs) == [
        "cms_change_sensor", "pending_files_sensor", "website_registry_sensor", "website_run_failure_sensor"]
    assert sorted(s.name for s in repo.schedule_defs) == [
        "health_schedule", "nightly_rebuild_schedule", "sync_schedule"]
    assert {"render_job", "sync_job", "rebuild_job", "health_job"} <= {j.name for j in repo.get_all_jobs()}
    assert {s.cron_schedule for s in repo.schedule_defs if s.name == "sync_schedule"} == {"*/10 * * * *"}


def test_embedded_dagster_yaml_is_a_valid_instance(tmp_path):
    shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    result = run_dagster("instance", "info", env={"DAGSTER_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SqliteRunStorage" in result.stdout or "sqlite" in result.stdout.lower()


def test_production_dagster_yaml_uses_postgresql(tmp_path):
    require_pg()
    config = yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())
    assert config["storage"]["postgres"]["postgres_url"] == {"env": "DAGSTER_PG_URL"}
    shutil.copy(ROOT / "deploy" / "dagster.yaml", tmp_path / "dagster.yaml")
    url = PG_BASE.replace("+psycopg", "") + "/postgres"
    result = run_dagster("instance", "info", env={"DAGSTER_HOME": str(tmp_path), "DAGSTER_PG_URL": url})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PostgresRunStorage" in result.stdout


def test_instance_configs_limit_runs_per_website_and_disable_telemetry():
    for path in (ROOT / "dagster.yaml", ROOT / "deploy" / "dagster.yaml"):
        config = yaml.safe_load(path.read_text())
        limits = config["concurrency"]["runs"]["tag_concurrency_limits"]
        assert limits == PER_WEBSITE_LIMITS
        assert config["telemetry"] == {"enabled": False}
        assert config["retention"]["sensor"]["purge_after_days"]["skipped"] <= 7


def test_helm_values_name_our_code_location_storage_and_limits():
    values = yaml.safe_load((ROOT / "deploy" / "helm-values.yaml").read_text())
    [deployment] = values["dagster-user-deployments"]["deployments"]
    args = deployment["dagsterApiGrpcArgs"]
    assert args[args.index("--module-name") + 1] == "osuny_pipeline.defs.definitions"
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["postgresql"]["enabled"] is False and values["postgresql"]["postgresqlHost"]
    coordinator = values["dagsterDaemon"]["runCoordinator"]
    assert coordinator["type"] == "QueuedRunCoordinator"
    assert coordinator["config"]["queuedRunCoordinator"]["tagConcurrencyLimits"] == PER_WEBSITE_LIMITS
    assert values["telemetry"]["enabled"] is False


def test_dockerfile_serves_our_definitions():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "osuny_pipeline.defs.definitions" in dockerfile
    assert "pip install" in dockerfile and "COPY osuny_pipeline" in dockerfile

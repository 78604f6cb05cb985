"""The whole loop through Dagster's own APIs, without a daemon: a fixture edit -> change-log
rows -> sensor run requests -> assets materialized -> a commit in a bare repository,
checked with `git`. The "daemon" here applies partition requests and executes each run
request in process, as the real one would launch them."""

from __future__ import annotations

import copy
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import yaml
from dagster import (
    DagsterInstance,
    RunRequest,
    SensorResult,
    SkipReason,
    build_schedule_context,
    build_sensor_context,
)

from osuny_pipeline.cli import main as cli
from osuny_pipeline.defs.assets import SYNCED_COMMIT
from osuny_pipeline.defs.definitions import defs
from osuny_pipeline.defs.partitions import websites
from osuny_pipeline.defs.resources import CmsDatabase
from osuny_pipeline.defs.schedules import sync_schedule
from osuny_pipeline.defs.sensors import (
    BURST_THRESHOLD,
    RANGE_START,
    cms_change_sensor,
    pending_files_sensor,
    website_registry_sensor,
)
from osuny_pipeline_tests.cms.sample import small_site


def base_content(remote: str) -> dict:
    content = small_site(remote)
    content["websites"][0]["credentials"] = None  # a local remote needs none
    return content


def git(remote: Path, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(remote), *args], check=True, capture_output=True,
                          text=True).stdout


class Loop:
    def __init__(self, tmp_path: Path, db_url: str, instance: DagsterInstance):
        self.tmp = tmp_path
        self.instance = instance
        self.cms = CmsDatabase(url=db_url)
        self.remote = tmp_path / "remote.git"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(self.remote)], check=True)
        self.content = base_content(str(self.remote))
        self.cursor: str | None = None
        self.loads = 0

    def load(self, content: dict | None = None) -> None:
        self.loads += 1
        path = self.tmp / f"fixture-{self.loads}.yaml"
        path.write_text(yaml.safe_dump(content or self.content, allow_unicode=True), encoding="utf-8")
        assert cli(["load", str(path)]) == 0

    def register(self) -> SensorResult | SkipReason:
        with build_sensor_context(instance=self.instance, resources={"cms": self.cms}) as ctx:
            result = website_registry_sensor(ctx)
        if isinstance(result, SensorResult):
            for request in result.dynamic_partitions_requests or []:
                if type(request).__name__.startswith("Add"):
                    self.instance.add_dynamic_partitions(websites.name, list(request.partition_keys))
                else:
                    for key in request.partition_keys:
                        self.instance.delete_dynamic_partition(websites.name, key)
        return result

    def changes(self) -> list[RunRequest]:
        with build_sensor_context(instance=self.instance, cursor=self.cursor,
                                  resources={"cms": self.cms}) as ctx:
            result = cms_change_sensor(ctx)
        self.cursor = result.cursor
        return list(result.run_requests or [])

    def run(self, job_name: str, request: RunRequest):
        job = defs.resolve_job_def(job_name)
        tags = dict(request.tags)
        if request.run_key:
            tags["dagster/run_key"] = request.run_key
        result = job.execute_in_process(instance=self.instance, partition_key=request.partition_key, tags=tags,
                                        raise_on_error=False)
        return result

    def sync_tick(self):
        context = build_schedule_context(instance=self.instance, resources={"cms": self.cms},
                                         scheduled_execution_time=datetime(2026, 12, 3, 12, 10, tzinfo=UTC))
        return sync_schedule(context)

    def head(self) -> str | None:
        out = subprocess.run(["git", "--git-dir", str(self.remote), "rev-parse", "--verify", "-q", "main"],
                             capture_output=True, text=True)
        return out.stdout.strip() or None


def materialized(result, key=SYNCED_COMMIT):
    return [m for m in result.asset_materializations_for_node("website_pipeline") if m.asset_key == key]


def test_fixture_edit_to_commit_through_sensors_and_schedule(loop):
    loop.load()
    assert isinstance(loop.register(), SensorResult)
    assert loop.instance.get_dynamic_partitions("websites") == ["demo"]

    [request] = loop.changes()
    assert request.partition_key == "demo" and request.run_key.startswith("changes:demo:")
    assert loop.run("render_job", request).success
    assert loop.changes() == [], "a second tick with no new change requests nothing"

    [sync] = loop.sync_tick()
    result = loop.run("sync_job", sync)
    assert result.success
    [event] = materialized(result)
    first = loop.head()
    assert event.metadata["commit"].value == first
    assert "content/fr/posts/2025/2025-01-07-colloque-les-vacances.html" in git(loop.remote, "ls-tree", "-r",
                                                                               "--name-only", "main")
    assert isinstance(loop.sync_tick(), SkipReason), "clean websites: the schedule skips"

    post = next(p for p in loop.content["posts"] if p["id"] == "p1")
    post["localizations"]["fr"]["title"] = "Colloque modifié"
    loop.load()
    [request] = loop.changes()
    render = loop.run("render_job", request)
    assert render.success
    [generated] = [m for m in render.asset_materializations_for_node("website_pipeline")
                   if m.asset_key.to_user_string() == "git_files"]
    assert generated.metadata["changed"].value >= 1
    [sync] = loop.sync_tick()
    assert loop.run("sync_job", sync).success
    assert git(loop.remote, "rev-list", "--count", "main").strip() == "2"
    assert "Colloque modifié" in git(loop.remote, "show", "main:content/fr/posts/2025/2025-01-07-colloque-les-vacances.html")
    assert git(loop.remote, "rev-parse", "main~1").strip() == first

    # A manual sync with nothing to push still shows the commit the website is at.
    manual = loop.run("sync_job", RunRequest(partition_key="demo"))
    [event] = materialized(manual)
    assert event.metadata["pushed"].value is False
    assert event.metadata["commit"].value == loop.head()


def test_registry_sensor_adds_and_removes_partitions(loop):
    assert isinstance(loop.register(), SkipReason)
    loop.load()
    loop.register()
    assert loop.instance.get_dynamic_partitions("websites") == ["demo"]
    loop.load({"websites": [{"id": "demo", "deleted": True}]})
    loop.register()
    assert loop.instance.get_dynamic_partitions("websites") == []


def test_change_sensor_skips_websites_with_a_run_in_flight(loop):
    loop.load()
    loop.register()
    [request] = loop.changes()
    loop.instance.create_run_for_job(
        defs.resolve_job_def("render_job"), tags={**request.tags, "dagster/partition": "demo"},
    )  # NOT_STARTED: queued but not run yet
    assert loop.changes() == []


def test_a_burst_over_many_websites_is_one_batched_run(loop):
    content = copy.deepcopy(loop.content)
    sites = []
    for i in range(BURST_THRESHOLD + 5):
        site = copy.deepcopy(content["websites"][0])
        site.update(id=f"site-{i:03d}", repository=str(loop.tmp / f"r{i}.git"))
        sites.append(site)
    loop.load({"websites": sites})
    loop.register()
    requests = loop.changes()
    assert len(requests) == 1
    assert requests[0].tags[RANGE_START] == "site-000"
    result = loop.run("render_job", requests[0])
    assert result.success
    keys = {m.partition for m in result.asset_materializations_for_node("website_pipeline")}
    assert keys == {f"site-{i:03d}" for i in range(BURST_THRESHOLD + 5)}
    assert loop.changes() == []


def test_pending_files_are_observed_before_anyone_clicks(loop):
    loop.load()
    loop.register()
    [request] = loop.changes()
    loop.run("render_job", request)
    with build_sensor_context(instance=loop.instance, resources={"cms": loop.cms}) as ctx:
        result = pending_files_sensor(ctx)
    [observation] = result.asset_events
    assert observation.partition == "demo"
    pending = observation.metadata["pending_files"].value
    assert pending > 10
    assert json.loads(result.cursor) == {"demo": pending}


def test_a_failing_website_fails_its_own_run_only(loop, monkeypatch):
    loop.content["websites"].append({**loop.content["websites"][0], "id": "broken",
                                     "repository": str(loop.tmp / "missing.git")})
    loop.load()
    loop.register()
    for request in loop.changes():
        assert loop.run("render_job", request).success
    results = {r.partition_key: loop.run("sync_job", r) for r in loop.sync_tick()}
    assert results["demo"].success and loop.head()
    assert not results["broken"].success
    assert cli(["status", "--website", "broken"]) == 0

"""The `loop` fixture: a CMS database, a bare remote and a Dagster test instance."""

import pytest
from dagster import instance_for_test

from osuny_pipeline_tests.defs.test_loop import Loop


@pytest.fixture
def loop(tmp_path, db_url, cli_env, monkeypatch):
    monkeypatch.setenv("OSUNY_CHANGE_LAG_SECONDS", "0")
    with instance_for_test() as instance:
        yield Loop(tmp_path, db_url, instance)

"""The migration builds the same schema on both backends, and the models match it."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from osuny_pipeline.cms.models import CONTENT_TABLES, Base


def test_migration_matches_the_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_every_content_table_exists(engine):
    tables = set(inspect(engine).get_table_names())
    assert set(CONTENT_TABLES) <= tables
    assert {"git_files", "git_contents", "change_log", "connections", "website_locks"} <= tables

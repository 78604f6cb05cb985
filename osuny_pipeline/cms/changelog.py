"""Change capture: database triggers that append to `change_log` in the writer's transaction.

Triggers, not ORM events, so that every writer is seen (another application, psql, a
migration). A rolled-back transaction rolls its change-log rows back with it.

Each content table declares how a row maps to the object it belongs to
(`about_type`, `about_id`) and to its website when that is known (`NULL` for indirect
objects: people, organizations, media, and their localizations). The SQL is written
once with `R.` standing for the row and rendered as `NEW.`/`OLD.` per operation.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, inspect, text

_DIRECT_WEBSITE = (
    "CASE R.about_type"
    " WHEN 'page' THEN (SELECT website_id FROM pages WHERE id = R.about_id)"
    " WHEN 'post' THEN (SELECT website_id FROM posts WHERE id = R.about_id)"
    " WHEN 'category' THEN (SELECT website_id FROM categories WHERE id = R.about_id)"
    " ELSE NULL END"
)


@dataclass(frozen=True)
class TableCapture:
    table: str
    row_id: str
    about_type: str
    about_id: str
    website_id: str


CAPTURES: tuple[TableCapture, ...] = (
    TableCapture("websites", "R.id", "'website'", "R.id", "R.id"),
    TableCapture("media", "R.id", "'media'", "R.id", "NULL"),
    TableCapture("people", "R.id", "'person'", "R.id", "NULL"),
    TableCapture("organizations", "R.id", "'organization'", "R.id", "NULL"),
    TableCapture("categories", "R.id", "'category'", "R.id", "R.website_id"),
    TableCapture("pages", "R.id", "'page'", "R.id", "R.website_id"),
    TableCapture("posts", "R.id", "'post'", "R.id", "R.website_id"),
    TableCapture("menus", "R.id", "'menu'", "R.id", "R.website_id"),
    TableCapture(
        "post_categories", "R.post_id || '/' || R.category_id", "'post'", "R.post_id",
        "(SELECT website_id FROM posts WHERE id = R.post_id)",
    ),
    TableCapture(
        "post_authors", "R.post_id || '/' || R.person_id", "'post'", "R.post_id",
        "(SELECT website_id FROM posts WHERE id = R.post_id)",
    ),
    TableCapture(
        "page_categories", "R.page_id || '/' || R.category_id", "'page'", "R.page_id",
        "(SELECT website_id FROM pages WHERE id = R.page_id)",
    ),
    TableCapture(
        "menu_items", "CAST(R.id AS TEXT)", "'menu'", "R.menu_id",
        "(SELECT website_id FROM menus WHERE id = R.menu_id)",
    ),
    TableCapture("localizations", "CAST(R.id AS TEXT)", "R.about_type", "R.about_id", _DIRECT_WEBSITE),
    TableCapture(
        "blocks", "R.id",
        "(SELECT about_type FROM localizations WHERE id = R.localization_id)",
        "(SELECT about_id FROM localizations WHERE id = R.localization_id)",
        "(SELECT " + _DIRECT_WEBSITE.replace("R.", "l.") + " FROM localizations l WHERE l.id = R.localization_id)",
    ),
)


def _values(capture: TableCapture, row: str, operation: str) -> str:
    exprs = (f"'{capture.table}'", capture.row_id, f"'{operation}'", capture.about_type,
             capture.about_id, capture.website_id)
    return ", ".join(e.replace("R.", f"{row}.") for e in exprs)


_INSERT = "INSERT INTO change_log (table_name, row_id, operation, about_type, about_id, website_id) VALUES "


def _sqlite_statements(capture: TableCapture, columns: list[str]) -> list[str]:
    t = capture.table
    # An UPDATE that changes nothing is not a change: the loader relies on it, psql users too.
    changed = " OR ".join(f"NOT (OLD.{c} IS NEW.{c})" for c in columns)
    return [
        f"CREATE TRIGGER change_log_{t}_insert AFTER INSERT ON {t} BEGIN "
        f"{_INSERT}({_values(capture, 'NEW', 'INSERT')}); END",
        f"CREATE TRIGGER change_log_{t}_update AFTER UPDATE ON {t} WHEN {changed} BEGIN "
        f"{_INSERT}({_values(capture, 'NEW', 'UPDATE')}); END",
        f"CREATE TRIGGER change_log_{t}_delete AFTER DELETE ON {t} BEGIN "
        f"{_INSERT}({_values(capture, 'OLD', 'DELETE')}); END",
    ]


def _postgres_statements(capture: TableCapture) -> list[str]:
    t = capture.table
    # clock_timestamp(), not now(): the change sensor's safety lag is measured from the
    # moment the row was written, not from the start of a long transaction.
    insert = _INSERT.replace("website_id)", "website_id, changed_at)")
    return [
        f"""CREATE OR REPLACE FUNCTION change_log_{t}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    {insert}({_values(capture, 'OLD', 'DELETE')}, clock_timestamp());
  ELSE
    {insert}({_values(capture, 'NEW', 'TG_OP').replace("'TG_OP'", 'TG_OP')}, clock_timestamp());
  END IF;
  RETURN NULL;
END $$""",
        f"CREATE TRIGGER change_log_{t}_write AFTER INSERT OR DELETE ON {t} "
        f"FOR EACH ROW EXECUTE FUNCTION change_log_{t}()",
        f"CREATE TRIGGER change_log_{t}_update AFTER UPDATE ON {t} "
        f"FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION change_log_{t}()",
    ]


def drop_triggers(conn: Connection) -> None:
    for capture in CAPTURES:
        t = capture.table
        if conn.dialect.name == "sqlite":
            for op in ("insert", "update", "delete"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS change_log_{t}_{op}"))
        else:
            conn.execute(text(f"DROP TRIGGER IF EXISTS change_log_{t}_write ON {t}"))
            conn.execute(text(f"DROP TRIGGER IF EXISTS change_log_{t}_update ON {t}"))
            conn.execute(text(f"DROP FUNCTION IF EXISTS change_log_{t}()"))


def install_triggers(conn: Connection) -> None:
    """(Re)create every change-capture trigger. Migrations that change a content table
    call it again, so the SQLite "did anything change" test lists the new columns."""
    drop_triggers(conn)
    inspector = inspect(conn)
    for capture in CAPTURES:
        if conn.dialect.name == "sqlite":
            columns = [c["name"] for c in inspector.get_columns(capture.table)]
            statements = _sqlite_statements(capture, columns)
        elif conn.dialect.name == "postgresql":
            statements = _postgres_statements(capture)
        else:
            raise NotImplementedError(f"change capture on {conn.dialect.name}")
        for statement in statements:
            conn.execute(text(statement))

"""The change-log triggers, proved with raw SQL (not the ORM): any writer is seen.

For each content table, an insert, an update and a delete append exactly one change_log
row naming the table, the row, the operation, the object the row belongs to and its
website (NULL for indirect objects: people, organizations, media and their
localizations and blocks)."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text

from osuny_pipeline.cms.models import CONTENT_TABLES

W = "w1"
# (table, insert, update, delete, row_id, about_type, about_id, website_id)
CASES: list[tuple[str, str, str, str, str, str, str, str | None]] = [
    ("websites",
     "INSERT INTO websites (id, name, url, repository, branch, languages, time_zone) "
     "VALUES ('w1', 'Site', '', '/tmp/r.git', 'main', '[\"fr\"]', 'Europe/Paris')",
     "UPDATE websites SET name = 'Site 2' WHERE id = 'w1'",
     "DELETE FROM websites WHERE id = 'w1'", "w1", "website", "w1", W),
    ("media",
     "INSERT INTO media (id, name, content_type, url) VALUES ('m1', 'a.jpg', 'image/jpeg', '')",
     "UPDATE media SET name = 'b.jpg' WHERE id = 'm1'",
     "DELETE FROM media WHERE id = 'm1'", "m1", "media", "m1", None),
    ("people", "INSERT INTO people (id) VALUES ('pe1')",
     "UPDATE people SET image_id = 'm1' WHERE id = 'pe1'",
     "DELETE FROM people WHERE id = 'pe1'", "pe1", "person", "pe1", None),
    ("organizations", "INSERT INTO organizations (id) VALUES ('o1')",
     "UPDATE organizations SET logo_id = 'm1' WHERE id = 'o1'",
     "DELETE FROM organizations WHERE id = 'o1'", "o1", "organization", "o1", None),
    ("categories",
     "INSERT INTO categories (id, website_id, kind, position) VALUES ('c1', 'w1', 'posts', 0)",
     "UPDATE categories SET position = 3 WHERE id = 'c1'",
     "DELETE FROM categories WHERE id = 'c1'", "c1", "category", "c1", W),
    ("pages", "INSERT INTO pages (id, website_id, position) VALUES ('pg1', 'w1', 0)",
     "UPDATE pages SET position = 2 WHERE id = 'pg1'",
     "DELETE FROM pages WHERE id = 'pg1'", "pg1", "page", "pg1", W),
    ("posts", "INSERT INTO posts (id, website_id) VALUES ('po1', 'w1')",
     "UPDATE posts SET image_id = 'm1' WHERE id = 'po1'",
     "DELETE FROM posts WHERE id = 'po1'", "po1", "post", "po1", W),
    ("post_categories",
     "INSERT INTO post_categories (post_id, category_id, position) VALUES ('po1', 'c1', 0)",
     "UPDATE post_categories SET position = 1 WHERE post_id = 'po1'",
     "DELETE FROM post_categories WHERE post_id = 'po1'", "po1/c1", "post", "po1", W),
    ("post_authors",
     "INSERT INTO post_authors (post_id, person_id, position) VALUES ('po1', 'pe1', 0)",
     "UPDATE post_authors SET position = 1 WHERE post_id = 'po1'",
     "DELETE FROM post_authors WHERE post_id = 'po1'", "po1/pe1", "post", "po1", W),
    ("page_categories",
     "INSERT INTO page_categories (page_id, category_id, position) VALUES ('pg1', 'c1', 0)",
     "UPDATE page_categories SET position = 1 WHERE page_id = 'pg1'",
     "DELETE FROM page_categories WHERE page_id = 'pg1'", "pg1/c1", "page", "pg1", W),
    ("menus",
     "INSERT INTO menus (id, website_id, identifier, language) VALUES ('mn1', 'w1', 'primary', 'fr')",
     "UPDATE menus SET title = 'Menu' WHERE id = 'mn1'",
     "DELETE FROM menus WHERE id = 'mn1'", "mn1", "menu", "mn1", W),
    ("menu_items",
     "INSERT INTO menu_items (id, menu_id, position, title) VALUES (201, 'mn1', 0, 'Accueil')",
     "UPDATE menu_items SET title = 'Home' WHERE id = 201",
     "DELETE FROM menu_items WHERE id = 201", "201", "menu", "mn1", W),
    ("localizations",  # of a direct object: the page's website
     "INSERT INTO localizations (id, about_type, about_id, language, title, slug, published) "
     "VALUES (101, 'page', 'pg1', 'fr', 'Accueil', '', true)",
     "UPDATE localizations SET title = 'Home' WHERE id = 101",
     "DELETE FROM localizations WHERE id = 101", "101", "page", "pg1", W),
    ("localizations",  # of an indirect object: no website
     "INSERT INTO localizations (id, about_type, about_id, language, first_name, slug, published) "
     "VALUES (102, 'person', 'pe1', 'fr', 'Ada', 'ada', true)",
     "UPDATE localizations SET first_name = 'Alan' WHERE id = 102",
     "DELETE FROM localizations WHERE id = 102", "102", "person", "pe1", None),
    ("localizations",
     "INSERT INTO localizations (id, about_type, about_id, language, title, slug, published) "
     "VALUES (103, 'organization', 'o1', 'fr', 'ACME', 'acme', true)",
     "UPDATE localizations SET summary = 'x' WHERE id = 103",
     "DELETE FROM localizations WHERE id = 103", "103", "organization", "o1", None),
    ("localizations",
     "INSERT INTO localizations (id, about_type, about_id, language, title, slug, published) "
     "VALUES (104, 'post', 'po1', 'fr', 'Post', 'post', true)",
     "UPDATE localizations SET published = false WHERE id = 104",
     "DELETE FROM localizations WHERE id = 104", "104", "post", "po1", W),
    ("localizations",
     "INSERT INTO localizations (id, about_type, about_id, language, title, slug, published) "
     "VALUES (105, 'category', 'c1', 'fr', 'News', 'news', true)",
     "UPDATE localizations SET slug = 'actualites' WHERE id = 105",
     "DELETE FROM localizations WHERE id = 105", "105", "category", "c1", W),
    ("blocks",  # a block of a page localization: the page's website
     "INSERT INTO blocks (id, localization_id, position, template, data, published) "
     "VALUES ('b1', 101, 0, 'chapter', '{\"text\": \"a\"}', true)",
     "UPDATE blocks SET position = 1 WHERE id = 'b1'",
     "DELETE FROM blocks WHERE id = 'b1'", "b1", "page", "pg1", W),
    ("blocks",  # a block of a person localization: no website
     "INSERT INTO blocks (id, localization_id, position, template, data, published) "
     "VALUES ('b2', 102, 0, 'chapter', '{\"text\": \"a\"}', true)",
     "UPDATE blocks SET template = 'title' WHERE id = 'b2'",
     "DELETE FROM blocks WHERE id = 'b2'", "b2", "person", "pe1", None),
]


def _max_id(conn: Connection) -> int:
    return conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM change_log")).scalar_one()


def _rows_since(conn: Connection, since: int) -> list[tuple]:
    return [tuple(r) for r in conn.execute(text(
        "SELECT id, table_name, row_id, operation, about_type, about_id, website_id "
        "FROM change_log WHERE id > :since ORDER BY id"), {"since": since})]


def _run_one(engine: Engine, sql: str) -> list[tuple]:
    with engine.begin() as conn:
        since = _max_id(conn)
        conn.execute(text(sql))
    with engine.connect() as conn:
        return _rows_since(conn, since)


def test_every_content_table_is_covered():
    assert {case[0] for case in CASES} == set(CONTENT_TABLES)


def test_insert_update_delete_each_append_one_row(engine):
    seen_ids: list[int] = []

    def check(sql: str, operation: str, case: tuple) -> None:
        table, *_, row_id, about_type, about_id, website = case
        rows = _run_one(engine, sql)
        assert len(rows) == 1, f"{operation} on {table} appended {rows}"
        assert rows[0][1:] == (table, row_id, operation, about_type, about_id, website), (table, operation)
        seen_ids.append(rows[0][0])

    for case in CASES:
        check(case[1], "INSERT", case)
    for case in CASES:
        check(case[2], "UPDATE", case)
    # Children before parents, so the triggers can still find each row's owner.
    for case in reversed(CASES):
        check(case[3], "DELETE", case)
    assert seen_ids == sorted(seen_ids) and len(set(seen_ids)) == len(seen_ids), "ids must increase"


def test_update_that_changes_nothing_appends_nothing(engine):
    for case in CASES[:7]:
        assert len(_run_one(engine, case[1])) == 1
    for sql in ("UPDATE websites SET name = name", "UPDATE pages SET position = 0 WHERE id = 'pg1'",
                "UPDATE media SET name = 'a.jpg'", "UPDATE people SET image_id = NULL"):
        assert _run_one(engine, sql) == [], sql


def test_rolled_back_transaction_leaves_no_row(engine):
    with engine.connect() as conn:
        since = _max_id(conn)
        conn.commit()
        with conn.begin() as tx:
            conn.execute(text(CASES[0][1]))
            conn.execute(text(CASES[5][1]))
            assert len(_rows_since(conn, since)) == 2  # visible inside the transaction...
            tx.rollback()
        assert _rows_since(conn, since) == []  # ...and gone with it
        assert conn.execute(text("SELECT COUNT(*) FROM websites")).scalar_one() == 0

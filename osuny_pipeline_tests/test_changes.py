"""Which websites the change sensor finds dirty, read from the real change log."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from osuny_pipeline.changes import dirty_websites, safe_watermark
from osuny_pipeline.cms.models import Connection, GitFile, WebsiteState, utcnow


def add_website(conn, key):
    conn.execute(text("INSERT INTO websites (id, name, url, repository, branch, languages, time_zone) "
                      "VALUES (:k, :n, '', '/r', 'main', '[\"fr\"]', 'UTC')"), {"k": key, "n": key})


def test_new_and_edited_websites_are_dirty_until_identified(engine):
    with engine.begin() as conn:
        add_website(conn, "a")
        add_website(conn, "b")
        conn.execute(text("INSERT INTO posts (id, website_id) VALUES ('p1', 'a')"))
    later = utcnow() + timedelta(minutes=1)
    with Session(engine) as session:
        found = dirty_websites(session, later)
        assert set(found.dirty) == {"a", "b"}
        assert found.dirty["a"] == 3  # website a, website b, post p1
        session.add(WebsiteState(website_id="a", identified_change_id=found.dirty["a"]))
        session.add(WebsiteState(website_id="b", identified_change_id=found.dirty["b"]))
        session.commit()
        assert dirty_websites(session, later).dirty == {}


def test_an_indirect_object_dirties_the_websites_that_show_it(engine):
    with engine.begin() as conn:
        add_website(conn, "a")
        add_website(conn, "b")
        conn.execute(text("INSERT INTO people (id) VALUES ('ada')"))
    later = utcnow() + timedelta(minutes=1)
    with Session(engine) as session:
        top = safe_watermark(session, later)
        for key in ("a", "b"):
            session.add(WebsiteState(website_id=key, identified_change_id=top))
        session.add(Connection(website_id="b", indirect_type="person", indirect_id="ada",
                               source_type="post", source_id="p1"))
        session.commit()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO localizations (about_type, about_id, language, slug, published) "
                          "VALUES ('person', 'ada', 'fr', 'ada', true)"))
    with Session(engine) as session:
        assert set(dirty_websites(session, utcnow() + timedelta(minutes=1)).dirty) == {"b"}


def test_a_website_still_carrying_a_file_of_the_object_is_dirty_too(engine):
    """The connection was removed (say, the only post citing the person was unpublished):
    the person's file waits for deletion there, so its edits must still wake that website."""
    with engine.begin() as conn:
        add_website(conn, "a")
        conn.execute(text("INSERT INTO people (id) VALUES ('ada')"))
    later = utcnow() + timedelta(minutes=1)
    with Session(engine) as session:
        session.add(WebsiteState(website_id="a", identified_change_id=safe_watermark(session, later)))
        session.add(GitFile(website_id="a", about_type="person", about_id="ada", language="fr",
                            previous_path="content/fr/persons/ada.html"))
        session.commit()
    with engine.begin() as conn:
        conn.execute(text("UPDATE people SET image_id = NULL WHERE id = 'ada'"))
        conn.execute(text("INSERT INTO localizations (about_type, about_id, language, slug, published) "
                          "VALUES ('person', 'ada', 'fr', 'ada', false)"))
    with Session(engine) as session:
        assert set(dirty_websites(session, utcnow() + timedelta(minutes=1)).dirty) == {"a"}


def test_rows_younger_than_the_lag_wait(engine):
    with engine.begin() as conn:
        add_website(conn, "a")
    with Session(engine) as session:
        assert dirty_websites(session, utcnow(), lag=timedelta(minutes=10)).dirty == {}
        assert dirty_websites(session, utcnow() + timedelta(minutes=11), lag=timedelta(minutes=10)).dirty


def test_the_scan_is_bounded(engine):
    with engine.begin() as conn:
        add_website(conn, "a")
        for i in range(10):
            conn.execute(text("INSERT INTO media (id, name, content_type, url) VALUES (:i, 'm', 'x', '')"),
                         {"i": f"m{i}"})
    with Session(engine) as session:
        found = dirty_websites(session, utcnow() + timedelta(minutes=1), max_scan=4)
        assert found.watermark == 4

"""Identification of a ~5,000-object website runs on bulk queries (no N+1)."""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, func, insert, select, update

from osuny_pipeline.cms.models import (
    Block,
    Category,
    Connection,
    GitFile,
    Localization,
    Medium,
    Page,
    Person,
    Post,
    PostAuthor,
    PostCategory,
    Website,
)
from osuny_pipeline.graph.identify import identify_website
from osuny_pipeline_tests.graph.content import NOW

PAGES, POSTS, PEOPLE, MEDIA, CATEGORIES = 800, 3500, 300, 100, 50


def build_site(session) -> None:
    session.execute(insert(Website), [{"id": "big", "name": "Big", "repository": "/tmp/big.git",
                                       "languages": ["fr"]}])
    session.execute(insert(Medium), [{"id": f"m{i}", "name": f"m{i}.jpg"} for i in range(MEDIA)])
    session.execute(insert(Person), [{"id": f"u{i}", "image_id": f"m{i % MEDIA}"} for i in range(PEOPLE)])
    session.execute(insert(Category), [
        {"id": f"c{i}", "website_id": "big", "kind": "posts", "parent_id": None if i < 10 else f"c{i % 10}",
         "position": i} for i in range(CATEGORIES)])
    session.execute(insert(Page), [
        {"id": f"g{i}", "website_id": "big", "parent_id": None if i == 0 else f"g{(i - 1) // 10}", "position": i}
        for i in range(PAGES)])
    session.execute(insert(Post), [{"id": f"p{i}", "website_id": "big", "image_id": f"m{i % MEDIA}"}
                                   for i in range(POSTS)])
    session.execute(insert(PostCategory), [{"post_id": f"p{i}", "category_id": f"c{i % CATEGORIES}"}
                                           for i in range(POSTS)])
    session.execute(insert(PostAuthor), [{"post_id": f"p{i}", "person_id": f"u{i % PEOPLE}"}
                                         for i in range(POSTS)])
    start = datetime(2024, 1, 1, tzinfo=UTC)
    l10ns = (
        [{"about_type": "person", "about_id": f"u{i}", "language": "fr", "slug": f"u{i}", "published": True}
         for i in range(PEOPLE)]
        + [{"about_type": "category", "about_id": f"c{i}", "language": "fr", "slug": f"c{i}", "published": True}
           for i in range(CATEGORIES)]
        + [{"about_type": "page", "about_id": f"g{i}", "language": "fr", "slug": f"g{i}", "published": True}
           for i in range(PAGES)]
        + [{"about_type": "post", "about_id": f"p{i}", "language": "fr", "slug": f"p{i}", "published": True,
            "published_at": start + timedelta(hours=i)} for i in range(POSTS)]
    )
    session.execute(insert(Localization), l10ns)
    ids = dict(((t, a), i) for i, t, a in session.execute(
        select(Localization.id, Localization.about_type, Localization.about_id)))
    blocks = []
    for i in range(PAGES):
        loc = ids[("page", f"g{i}")]
        blocks.append({"id": f"g{i}-b0", "localization_id": loc, "template": "chapter", "data": {}})
        if i % 10 == 0:
            blocks.append({"id": f"g{i}-b1", "localization_id": loc, "template": "posts",
                           "data": {"mode": "category", "category": f"c{i % CATEGORIES}", "quantity": 5}})
            blocks.append({"id": f"g{i}-b2", "localization_id": loc, "template": "persons",
                           "data": {"persons": [f"u{i % PEOPLE}", f"u{(i + 1) % PEOPLE}"]}})
            blocks.append({"id": f"g{i}-b3", "localization_id": loc, "template": "pages", "data": {}})
    for i in range(POSTS):
        blocks.append({"id": f"p{i}-b0", "localization_id": ids[("post", f"p{i}")], "template": "image",
                       "data": {"image": f"m{(i + 1) % MEDIA}"}})
    session.execute(insert(Block), blocks)
    session.flush()


@contextmanager
def counting_statements(session):
    """The SQL statements the session's connection executes inside the block."""
    statements: list[str] = []
    engine = session.get_bind()

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_identify_a_5000_object_site_with_bulk_queries(session):
    build_site(session)
    t0 = time.perf_counter()
    with counting_statements(session) as full_statements:
        full = identify_website(session, "big", now=NOW)
    full_seconds = time.perf_counter() - t0
    assert full.full
    assert len(full.owners) >= PAGES + POSTS + PEOPLE + CATEGORIES
    assert session.scalar(select(func.count()).select_from(Connection)) > POSTS * 3

    # every post edited: thousands of distinct objects on the incremental path
    session.execute(update(Localization).where(Localization.about_type == "post").values(summary="edited"))
    t0 = time.perf_counter()
    with counting_statements(session) as incremental_statements:
        incremental = identify_website(session, "big", now=NOW)
    incremental_seconds = time.perf_counter() - t0
    assert not incremental.full and incremental.objects == POSTS
    assert {("post", "p0", "fr"), ("person", "u0", "fr"), ("page", "g0", "fr")} <= incremental.owners
    assert session.scalar(select(func.count()).select_from(GitFile).where(GitFile.website_id == "big")) \
        == len(full.owners)
    print(f"full {full_seconds:.2f}s ({len(full_statements)} statements), "
          f"incremental {incremental_seconds:.2f}s ({len(incremental_statements)} statements)")
    # Bulk loading, no N+1: the number of statements does not grow with the 4,750 objects.
    # (Times are printed, never asserted: the machines are noisy; bench/ measures speed.)
    assert len(full_statements) < 300, f"{len(full_statements)} statements for a full identification"
    assert len(incremental_statements) < 300, f"{len(incremental_statements)} statements for 3,500 edits"

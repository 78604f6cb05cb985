"""Two generators racing on the same files (PostgreSQL, two real connections in two
threads): one correct row per owner, no error, and a later generation changes nothing.
Also two identifications upserting the same owners at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from osuny_pipeline import pipeline
from osuny_pipeline.cms.models import GitFile
from osuny_pipeline.owners import FileOwner
from osuny_pipeline.render.generate import generate_website
from osuny_pipeline.render.renderer import SiteRenderer
from osuny_pipeline.store import blob_sha, mark_identified
from osuny_pipeline_tests.test_demo_site import NOW, load_demo

pytestmark = pytest.mark.postgres


def in_two_threads(work: Callable[[int], Any]) -> list[Any]:
    """Run work(0) and work(1) at once, released together by a barrier."""
    barrier = threading.Barrier(2, timeout=30)

    def start(i: int) -> Any:
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(2) as pool:
        return [f.result(timeout=120) for f in [pool.submit(start, 0), pool.submit(start, 1)]]


class MeetingRenderer(SiteRenderer):
    """Both generators render their first file only once both have read their rows: their
    chunks overlap for sure."""

    barrier: threading.Barrier

    def render(self, owner, *, aliases=()):
        if not getattr(self, "_met", False):
            self._met = True
            self.barrier.wait()
        return super().render(owner, aliases=aliases)


def expected_files(engine: Engine) -> dict[tuple[str, str, str], tuple[str | None, str | None]]:
    """owner -> (path, sha) as one renderer alone renders it now."""
    with Session(engine) as session:
        renderer = SiteRenderer(session, "demo", as_of=NOW)
        owners = session.execute(select(GitFile.about_type, GitFile.about_id, GitFile.language)).all()
        out = {}
        for about_type, about_id, language in owners:
            rendered = renderer.render(FileOwner(about_type, about_id, language))
            out[(about_type, about_id, language)] = (
                rendered.path, blob_sha(rendered.content) if rendered.content is not None else None)
        return out


@pytest.fixture
def site(pg_engine: Engine) -> Engine:
    load_demo(pg_engine)
    return pg_engine


def test_two_generators_on_the_same_files_leave_one_correct_row(site: Engine) -> None:
    pipeline.identify(site, "demo", now=NOW)
    with site.connect() as conn:
        identified = conn.execute(text("SELECT count(*) FROM git_files WHERE identified_at IS NOT NULL")).scalar()
    assert identified > 700
    MeetingRenderer.barrier = threading.Barrier(2, timeout=30)

    results = in_two_threads(lambda i: generate_website(site, "demo", now=NOW, run_id=f"racer-{i}",
                                                        renderer_factory=MeetingRenderer))

    assert [r.failed for r in results] == [{}, {}]
    with site.connect() as conn:
        duplicates = conn.execute(text(
            "SELECT about_type, about_id, language, count(*) FROM git_files "
            "GROUP BY about_type, about_id, language HAVING count(*) > 1")).all()
        assert duplicates == []
        rows = conn.execute(text("SELECT about_type, about_id, language, current_path, current_sha, identified_at "
                                 "FROM git_files")).all()
        missing_contents = conn.execute(text(
            "SELECT count(*) FROM git_files f LEFT JOIN git_contents c ON c.sha = f.current_sha "
            "WHERE f.current_sha IS NOT NULL AND c.sha IS NULL")).scalar()
    assert missing_contents == 0
    assert all(r.identified_at is None for r in rows)
    expected = expected_files(site)
    assert {(r.about_type, r.about_id, r.language): (r.current_path, r.current_sha) for r in rows} == expected

    later = NOW + timedelta(minutes=5)
    pipeline.identify(site, "demo", now=later, full=True)
    again = generate_website(site, "demo", now=later, run_id="after")
    assert (again.changed, again.deleted, again.failed) == (0, 0, {})


def test_two_identifications_of_the_same_owners_upsert_once(site: Engine) -> None:
    owners = [FileOwner("post", f"race-{i:03d}", lang) for i in range(300) for lang in ("fr", "en")]

    def identify(i: int) -> int:
        with Session(site) as session:
            # Opposite orders on purpose: the upsert sorts its rows, so no deadlock either way.
            count = mark_identified(session, "demo", owners if i == 0 else owners[::-1], NOW + timedelta(seconds=i))
            session.commit()
            return count

    assert in_two_threads(identify) == [len(owners), len(owners)]
    with Session(site) as session:
        rows = session.execute(select(GitFile.about_id, GitFile.language, func.count())
                               .where(GitFile.about_id.like("race-%"))
                               .group_by(GitFile.about_id, GitFile.language)).all()
        assert len(rows) == len(owners) and all(count == 1 for *_, count in rows)
        # The first request time wins, whichever transaction came first: both are kept as one.
        times = set(session.scalars(select(GitFile.identified_at).where(GitFile.about_id.like("race-%"))))
        assert len(times) == 1 and times <= {NOW, NOW + timedelta(seconds=1)}

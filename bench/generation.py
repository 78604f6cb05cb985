"""Figure 3: generation throughput (render, hash, compare, store) in files/s, for changed
and for unchanged files, on SQLite and PostgreSQL, against Jinja2 rendering alone of the
same files (the ceiling: the same templates and contexts, no database, no hashing).

The site comes from the seed generator (`osuny-pipeline seed`) at ~4k files.

    python -m bench.generation [--quick]
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.orm import Session

from bench.common import Figure, Mode, Report, backends, database, run_alone, timed, workdir

WEBSITE = "site-001"


def seed_site(url: str, scale: float, folder: Path) -> None:
    """Load a seeded website (fixture built in memory: no YAML round trip)."""
    from osuny_pipeline.cms.db import engine_for
    from osuny_pipeline.cms.loader import load_fixture
    from osuny_pipeline.cms.seed import build_fixture

    fixture = build_fixture(1, scale, 1, remote_dir=str(folder / "remotes"))
    load_fixture(engine_for(url), fixture, base_dir=folder)


def identify_all(url: str, now: datetime) -> int:
    from osuny_pipeline import pipeline
    from osuny_pipeline.cms.db import engine_for

    return len(pipeline.identify(engine_for(url), WEBSITE, now=now, full=True).owners)


def mark_all_identified(url: str, now: datetime) -> None:
    """Ask generation to render every file again (as a template change would)."""
    from osuny_pipeline.cms.db import engine_for
    from osuny_pipeline.cms.models import GitFile

    with Session(engine_for(url)) as session, session.begin():
        session.execute(update(GitFile).where(GitFile.website_id == WEBSITE).values(identified_at=now))


def generate(url: str, now: datetime, run_id: str):
    from osuny_pipeline.cms.db import engine_for
    from osuny_pipeline.render.generate import generate_website

    return generate_website(engine_for(url), WEBSITE, now=now, run_id=run_id)


@contextmanager
def capture_templates(calls: list[tuple[str, dict]]):
    """Record every (template, context) the renderer renders, to replay them alone."""
    from osuny_pipeline.render import renderer

    real = renderer.render_template

    def recording(name: str, context: dict) -> str:
        calls.append((name, context))
        return real(name, context)

    renderer.render_template = recording
    try:
        yield
    finally:
        renderer.render_template = real


def jinja_alone(calls: list[tuple[str, dict]]) -> float:
    """Files/s of the template rendering alone (best of three: it is the ceiling)."""
    from osuny_pipeline.render.renderer import render_template

    def replay() -> None:
        for name, context in calls:
            render_template(name, context)

    return len(calls) / min(timed(replay)[0] for _ in range(3))


def bench_backend(mode: Mode, kind: str, report: Report) -> dict[str, float]:
    with workdir(f"gen-{kind}") as folder, database(kind, folder) as url:
        seed_site(url, mode.generation_scale, folder)
        now = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
        files = identify_all(url, now)
        calls: list[tuple[str, dict]] = []
        with capture_templates(calls):
            changed_s, changed = timed(lambda: generate(url, now, "bench-1"))
        assert changed.rendered and not changed.failed, changed.summary
        mark_all_identified(url, now)
        unchanged_s, unchanged = timed(lambda: generate(url, now, "bench-2"))
        assert unchanged.unchanged == unchanged.rendered - unchanged.deleted, unchanged.summary
        ceiling = jinja_alone(calls)
        changed_rate, unchanged_rate = changed.rendered / changed_s, unchanged.rendered / unchanged_s
        report.add(Figure("3", f"generation, changed files, {kind}, {files:,} files", "files/s", changed_rate,
                          ceiling, "Jinja2 alone", size=files))
        report.add(Figure("3", f"generation, unchanged files, {kind}, {files:,} files", "files/s", unchanged_rate,
                          ceiling, "Jinja2 alone", "50% of the ceiling or better",
                          met=unchanged_rate >= 0.5 * ceiling, size=files))
        return {"files": files, "changed": changed_rate, "unchanged": unchanged_rate, "ceiling": ceiling}


def run(mode: Mode, report: Report) -> dict[str, dict[str, float]]:
    return {kind: bench_backend(mode, kind, report) for kind in backends()}


def main(argv: list[str] | None = None) -> int:
    return run_alone(__doc__, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())

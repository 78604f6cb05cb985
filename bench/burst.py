"""Figure 4: a burst of 1,000 saves over 50 objects within one sync period.

Ours: the saves land (each its own transaction; the triggers write the change log), then
one identification, one generation and one sync: files generated must equal the unique
affected files, and one commit goes out. Baseline, on the same repository: one commit
per save (what most git-based CMSs do, and what Osuny did): identify, generate and sync
after every save. The baseline runs a sample of the saves and is scaled to all of them
(its cost is linear in the saves); the table says how many it ran.

    python -m bench.burst [--quick]
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from bench.common import Figure, Mode, Report, bare_repository, database, run_alone, timed, workdir
from bench.generation import WEBSITE, seed_site

SAVES, OBJECTS = 1_000, 50


def posts(url: str, count: int) -> list[str]:
    from osuny_pipeline.cms.db import engine_for

    with engine_for(url).connect() as conn:
        return list(conn.execute(text("SELECT id FROM posts WHERE website_id = :w ORDER BY id LIMIT :n"),
                                 {"w": WEBSITE, "n": count}).scalars())


def save(url: str, post_id: str, number: int) -> None:
    """One editor's save: a new title, in its own transaction."""
    from osuny_pipeline.cms.db import engine_for

    with engine_for(url).begin() as conn:
        conn.execute(text("UPDATE localizations SET title = :t WHERE about_type = 'post' AND about_id = :i"),
                     {"t": f"Titre révisé n° {number}", "i": post_id})


class Clock:
    """Time moves on between runs (the change log's safety lag is set to zero here)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC) + timedelta(seconds=1)

    def tick(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def cycle(url: str, clock: Clock, run_id: str):
    """Identification, generation and sync of the website, as the Dagster runs do them."""
    from osuny_pipeline import pipeline
    from osuny_pipeline.cms.db import engine_for
    from osuny_pipeline.git.sync import sync_website
    from osuny_pipeline.render.generate import generate_website

    engine = engine_for(url)
    identified = pipeline.identify(engine, WEBSITE, now=clock.tick())
    generated = generate_website(engine, WEBSITE, now=clock.tick(), run_id=run_id)
    synced = sync_website(engine, WEBSITE, now=clock.tick)
    return identified, generated, synced


def run(mode: Mode, report: Report) -> dict[str, float]:
    saves = 100 if mode.quick else SAVES
    sample = 10 if mode.quick else 50
    with workdir("burst") as folder, database("sqlite", folder) as url:
        seed_site(url, 0.05 if mode.quick else 0.3, folder)
        from osuny_pipeline.cms.db import engine_for
        from osuny_pipeline.cms.models import Website

        remote = bare_repository(folder / "site.git")
        with engine_for(url).begin() as conn:
            conn.execute(Website.__table__.update().values(repository=str(remote)))
        os.environ["OSUNY_GIT_CACHE"] = str(folder / "cache")
        clock = Clock()
        from osuny_pipeline import pipeline

        pipeline.identify(engine_for(url), WEBSITE, now=clock.tick(), full=True)
        cycle(url, clock, "first-publication")
        targets = posts(url, OBJECTS)

        for n in range(saves):
            save(url, targets[n % len(targets)], n)
        seconds, (identified, generated, synced) = timed(lambda: cycle(url, clock, "burst"))
        affected = len(identified.owners)
        assert generated.rendered == affected, (generated.summary, affected)

        per_save, commits, rendered = [], 0, 0
        for n in range(sample):
            save(url, targets[n % len(targets)], saves + n)
            elapsed, (_, one_generation, one) = timed(lambda n=n: cycle(url, clock, f"save-{n}"))
            per_save.append(elapsed)
            commits += one.batches
            rendered += one_generation.rendered
        scale = saves / sample
        note = f"baseline: {sample} of the {saves} saves run, scaled to all"
        report.add(Figure("4", f"burst of {saves:,} saves over {len(targets)} objects: files generated", "files",
                          generated.rendered, rendered * scale, "one run per save",
                          "equal to the unique affected files", met=generated.rendered == affected,
                          note=f"{affected} unique affected files, {generated.changed} changed; {note}"))
        baseline_seconds, baseline_commits = sum(per_save) * scale, commits * scale
        report.add(Figure("4", "burst: commits", "commits", float(synced.batches), baseline_commits,
                          "one commit per save", "1 commit", met=synced.batches == 1, note=note))
        report.add(Figure("4", "burst: total seconds", "s", seconds, baseline_seconds, "one commit per save",
                          note=note))
        return {"commits": synced.batches, "files": generated.rendered, "affected": affected}


def main(argv: list[str] | None = None) -> int:
    return run_alone(__doc__, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())

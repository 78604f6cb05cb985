"""Figure 6: peak memory (RSS) of a first publication of ~50k files and of generating a
~50k-file site, each in a fresh child process; both must stay under 500 MB. The
baseline column is the budget itself; the content size says what loading the site at
once would cost at the least.

    python -m bench.memory [--quick]
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from bench.common import (
    Figure,
    Mode,
    Report,
    bare_repository,
    child_result,
    database,
    run_child,
    timed,
    workdir,
)
from bench.generation import generate, identify_all, seed_site
from bench.sites import SiteFiles, load_site

BUDGET_MB = 500.0
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def generation_child(url: str) -> None:
    """Run in a fresh process: generate the whole (identified) site; prints time and peak RSS."""
    seconds, result = timed(lambda: generate(url, NOW, "bench-memory"))
    child_result(seconds=seconds, rendered=result.rendered, failed=len(result.failed))


def first_publication(mode: Mode, report: Report) -> dict:
    files = mode.site_sizes[-1]
    with workdir("mem-sync") as folder, database("sqlite", folder) as url:
        from osuny_pipeline.cms.db import engine_for

        site = SiteFiles.build(files)
        content_mb = site.total_bytes() / 2**20
        load_site(engine_for(url), site, bare_repository(folder / "site.git"))
        del site
        out = run_child("bench.sync", "--first-publication", url, str(folder / "cache"))
        report.add(Figure("6", f"peak RSS, first publication of {files:,} files", "MB", out["peak_rss_mb"], BUDGET_MB,
                          "budget", f"under {BUDGET_MB:.0f} MB", met=out["peak_rss_mb"] < BUDGET_MB, size=files,
                          note=f"site content {content_mb:.0f} MB; {out['seconds']:.1f} s"))
        return out


def generation(mode: Mode, report: Report) -> dict:
    with workdir("mem-gen") as folder, database("sqlite", folder) as url:
        seed_site(url, mode.memory_scale, folder)
        files = identify_all(url, NOW)
        out = run_child("bench.memory", "--generate", url)
        assert out["rendered"] and not out["failed"], out
        report.add(Figure("6", f"peak RSS, generation of {files:,} files", "MB", out["peak_rss_mb"], BUDGET_MB,
                          "budget", f"under {BUDGET_MB:.0f} MB", met=out["peak_rss_mb"] < BUDGET_MB, size=files,
                          note=f"{out['rendered'] / out['seconds']:.0f} files/s ({out['seconds']:.0f} s)"))
        return {**out, "files": files}


def run(mode: Mode, report: Report) -> dict[str, dict]:
    return {"publication": first_publication(mode, report), "generation": generation(mode, report)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--generate", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.generate:
        generation_child(args.generate)
        return 0
    run(Mode(args.quick), Report())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

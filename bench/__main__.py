"""Run every benchmark: `python -m bench` (the issue's sizes; writes docs/benchmarks.md and
docs/benchmarks.png) or `python -m bench --quick` (small sizes, under a minute, writes
only .osuny/bench/quick.json: the test suite runs it so the benchmarks cannot rot)."""

from __future__ import annotations

import argparse
import logging
import time

from bench import burst, generation, memory, sync, ticks
from bench.common import RESULTS_DIR, ROOT, Mode, Report, machine
from bench.report import write_markdown, write_plot

MODULES = {"sync": sync, "generation": generation, "burst": burst, "ticks": ticks, "memory": memory}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes; nothing written under docs/")
    parser.add_argument("--only", choices=sorted(MODULES), action="append", help="run only these (repeatable)")
    args = parser.parse_args(argv)
    logging.getLogger("dagster").setLevel(logging.WARNING)
    mode = Mode(args.quick)
    description = machine()
    print("machine: " + "; ".join(f"{k} {v}" for k, v in description.items()), flush=True)
    report = Report()
    started = time.perf_counter()
    extra: dict[str, object] = {}
    for name, module in MODULES.items():
        if args.only and name not in args.only:
            continue
        t0 = time.perf_counter()
        extra[name] = module.run(mode, report)
        report.seconds[name] = time.perf_counter() - t0
        print(f"-- {name}: {report.seconds[name]:.0f} s", flush=True)
    report.seconds["total"] = time.perf_counter() - started
    report.save(RESULTS_DIR / ("quick.json" if args.quick else "full.json"))
    missed = [f for f in report.figures if f.met is False]
    print(f"{len(report.figures)} figures, {len(missed)} target(s) missed, "
          f"{report.seconds['total']:.0f} s in all", flush=True)
    if not args.quick and not args.only:
        docs = ROOT / "docs"
        print(f"wrote {write_markdown(report, description, extra, docs / 'benchmarks.md')}")
        print(write_plot(report, extra, docs / "benchmarks.png"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The `osuny-pipeline` command line.

Each area registers its own subcommands (`register(subparsers)` in `<area>/cli.py`) and
imports its heavy modules inside the handlers, so `osuny-pipeline status` never pays for
importing Dagster. Handlers return an exit code; an `OsunyError` becomes one clear line
on stderr and exit code 1 (2 for usage errors, as argparse does).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from osuny_pipeline.errors import OsunyError, redact

AREAS = (
    "osuny_pipeline.cms.cli",
    "osuny_pipeline.graph.cli",
    "osuny_pipeline.render.cli",
    "osuny_pipeline.git.cli",
    "osuny_pipeline.status_cli",
    "osuny_pipeline.demo_cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="osuny-pipeline",
        description="Keep CMS websites in sync with their Git repositories.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in AREAS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):  # an area not built yet
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except OsunyError as exc:
        print(f"osuny-pipeline: error: {redact(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("osuny-pipeline: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

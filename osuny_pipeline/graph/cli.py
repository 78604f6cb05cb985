"""CLI: `osuny-pipeline identify [--website KEY] [--full]` (phase 1 without Dagster)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "identify", help="phase 1: find the files to re-render from the change log",
        description="Read each website's change log past its cursor, refresh connections and mark "
                    "the files that may have changed for generation.")
    parser.add_argument("--website", metavar="KEY", help="one website (default: every website)")
    parser.add_argument("--full", action="store_true",
                        help="the whole site: rebuild connections and identify every file")
    parser.set_defaults(handler=_identify)


def _identify(args: argparse.Namespace) -> int:
    from osuny_pipeline import pipeline
    from osuny_pipeline.cms.db import open_database
    from osuny_pipeline.cms.models import utcnow
    from osuny_pipeline.websites import websites_to_process

    engine = open_database()
    keys = websites_to_process(engine, args.website)
    if not keys:
        print("no website")
        return 0
    for key in keys:
        # One transaction per website: a failure leaves the other websites' work committed.
        print(pipeline.identify(engine, key, now=utcnow(), full=args.full).summary())
    return 0

"""CLI: `demo`, the one-shot terminal tour: prepare the embedded demo, run the three
phases on it, print what happened and the website's status."""

from __future__ import annotations

import argparse
import uuid


def register(subparsers: argparse._SubParsersAction) -> None:
    demo = subparsers.add_parser("demo", help="prepare the demo website and run identify, generate and sync on it")
    demo.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    from sqlalchemy.orm import Session

    from osuny_pipeline import pipeline
    from osuny_pipeline.cms.db import get_engine
    from osuny_pipeline.cms.demo import DEMO_WEBSITE, prepare_demo
    from osuny_pipeline.cms.models import utcnow
    from osuny_pipeline.git.sync import sync_website
    from osuny_pipeline.render.generate import generate_website, terminal_progress
    from osuny_pipeline.status import website_status

    engine = get_engine()
    for line in prepare_demo(engine=engine):
        print(line)
    identified = pipeline.identify(engine, DEMO_WEBSITE, now=utcnow())
    print(f"identify: {identified.changes_read} changes read, {len(identified.owners)} files identified")
    generated = generate_website(engine, DEMO_WEBSITE, now=utcnow(), run_id=f"demo-{uuid.uuid4().hex[:12]}",
                                 progress=terminal_progress("generate"))
    print(f"generate: {generated.summary} in {generated.seconds:.1f} s")
    synced = sync_website(engine, DEMO_WEBSITE)
    print(f"sync: {('commit ' + synced.commit) if synced.commit else 'no change'}, "
          f"{sum(synced.counts.values())} files in {synced.batches} batch(es)")
    with Session(engine) as session:
        status = website_status(session, DEMO_WEBSITE, utcnow())
    print(f"status: {status.files} files, {status.in_sync} in sync, {status.desynchronized} desynchronized, "
          f"{status.failed} failed; last commit {status.last_commit or '-'}")
    return 0

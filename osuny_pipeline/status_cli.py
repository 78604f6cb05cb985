"""CLI: `status [--website KEY] [--json]`."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    status = subparsers.add_parser("status", help="files, pending syncs, failures and last sync of each website")
    status.add_argument("--website", metavar="KEY")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(handler=_status)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def _status(args: argparse.Namespace) -> int:
    from sqlalchemy.orm import Session

    from osuny_pipeline.cms.db import open_database
    from osuny_pipeline.cms.models import utcnow
    from osuny_pipeline.status import MAX_LISTED, website_status
    from osuny_pipeline.websites import websites_to_process

    engine = open_database()
    now = utcnow()
    with Session(engine) as session:
        statuses = [website_status(session, key, now) for key in websites_to_process(engine, args.website)]
    if args.json:
        print(json.dumps([s.as_json() for s in statuses], indent=2, ensure_ascii=False))
        return 0
    for s in statuses:
        print(f"{s.website}: {s.files} files, {s.in_sync} in sync, {s.desynchronized} desynchronized "
              f"(oldest {_age(s.oldest_desync_age_seconds)}), {s.waiting_generation} waiting generation, "
              f"{s.never_generated} never generated, {s.failed} failed")
        print(f"  last sync: {s.last_sync_at.isoformat() if s.last_sync_at else 'never'}; "
              f"last commit: {s.last_commit or '-'}"
              f"{f' at {s.last_commit_at.isoformat()}' if s.last_commit_at else ''}")
        if s.last_error:
            print(f"  last error: {s.last_error}")
        for failure in s.failures:
            print(f"  failed {failure['owner']}: {failure['error']}")
        if s.failed > MAX_LISTED:
            print(f"  ... and {s.failed - MAX_LISTED} more failures")
        if s.orphans:
            print(f"  orphans ({len(s.orphans)}, not owned by the pipeline, left untouched): "
                  f"{', '.join(s.orphans[:MAX_LISTED])}{' ...' if len(s.orphans) > MAX_LISTED else ''}")
    return 0

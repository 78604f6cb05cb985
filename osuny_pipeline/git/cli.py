"""CLI: `sync [--website KEY]`, `rebuild --website KEY`, `lineage --website KEY PATH [--json]`."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    sync = subparsers.add_parser("sync", help="push desynchronized files to the websites' repositories")
    sync.add_argument("--website", metavar="KEY", help="one website (default: every website with pending files)")
    sync.set_defaults(handler=_sync)

    rebuild = subparsers.add_parser(
        "rebuild", help="refresh a website from its remote (drift, orphans) and identify all its files")
    rebuild.add_argument("--website", metavar="KEY", required=True)
    rebuild.set_defaults(handler=_rebuild)

    lineage = subparsers.add_parser("lineage", help="which object a file renders, and which commit pushed it")
    lineage.add_argument("--website", metavar="KEY", required=True)
    lineage.add_argument("path", metavar="PATH", help="a path in the repository, e.g. content/fr/_index.html")
    lineage.add_argument("--json", action="store_true", help="print JSON")
    lineage.set_defaults(handler=_lineage)


def _sync(args: argparse.Namespace) -> int:
    from osuny_pipeline.cms.db import open_database
    from osuny_pipeline.git.state import one_line
    from osuny_pipeline.git.sync import sync_all, sync_website

    engine = open_database()
    if args.website:
        results: dict[str, object] = {}
        try:
            results[args.website] = sync_website(engine, args.website)
        except Exception as exc:  # reported below like sync_all's failures
            results[args.website] = exc
    else:
        results = dict(sync_all(engine))
        if not results:
            print("nothing to synchronize")
    failed = 0
    for website_id, outcome in results.items():
        if isinstance(outcome, Exception):
            failed += 1
            print(f"{website_id}: error: {one_line(outcome)}", file=sys.stderr)
        else:
            print(f"{website_id}: {describe(outcome)}")
    return 1 if failed else 0


def describe(result) -> str:
    counts = ", ".join(f"{result.counts.get(a, 0)} {a}" for a in ("added", "updated", "moved", "deleted"))
    synced = f"{result.marked_synced + result.removed} file(s) marked synced"
    extra = f", {result.stale} re-rendered meanwhile" if result.stale else ""
    extra += f", {len(result.skipped)} skipped" if result.skipped else ""
    if result.pushed and result.commit:
        plural = "s" if result.batches != 1 else ""
        return f"pushed {result.commit[:12]} ({counts}; {result.batches} commit{plural}; {synced}{extra})"
    if result.selected == 0:
        return "no change (nothing pending)"
    return f"no change ({synced}{extra})"


def _rebuild(args: argparse.Namespace) -> int:
    from osuny_pipeline.cms.db import open_database
    from osuny_pipeline.git.refresh import rebuild_website

    engine = open_database()
    refreshed, identified = rebuild_website(engine, args.website)
    head = refreshed.head[:12] if refreshed.head else "(empty)"
    print(f"{args.website}: remote {head}, {refreshed.remote_files} file(s); {refreshed.checked} checked, "
          f"{len(refreshed.drifted)} drifted, {len(refreshed.missing)} missing, "
          f"{refreshed.desynchronized} queued for sync, {len(refreshed.orphans)} orphan(s)")
    for path in refreshed.orphans[:20]:
        print(f"  orphan: {path}")
    if len(refreshed.orphans) > 20:
        print(f"  ... and {len(refreshed.orphans) - 20} more (see `status`)")
    if identified is not None:
        summary = identified.summary() if hasattr(identified, "summary") else str(identified)
        print(f"identification: {summary}")
    return 0


def _lineage(args: argparse.Namespace) -> int:
    from sqlalchemy.orm import Session

    from osuny_pipeline.cms.db import open_database
    from osuny_pipeline.errors import OsunyError
    from osuny_pipeline.git.lineage import lineage

    engine = open_database()
    with Session(engine) as session:
        info = lineage(session, args.website, args.path)
    if info is None:
        raise OsunyError(f"no git_file of website {args.website!r} owns {args.path!r}")
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=True))
        return 0
    labels = [("owner", "owner"), ("current_path", "path"), ("current_sha", "content sha"),
              ("previous_path", "remote path"), ("previous_sha", "remote sha"),
              ("generated_at", "rendered at"), ("rendered_run_id", "render run"),
              ("desynchronized_at", "waiting since"), ("synced_commit", "pushed in"),
              ("synced_at", "pushed at"), ("error", "error")]
    for key, label in labels:
        value = info.get(key)
        print(f"{label:>14}: {value if value is not None else '-'}")
    return 0

"""CLI: `db upgrade` (and, from the loader, `load` and `seed`)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    db = subparsers.add_parser("db", help="manage the CMS database schema")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_sub.add_parser("upgrade", help="apply the schema migrations (creates the database if needed)")
    up.set_defaults(handler=_upgrade)


def _upgrade(args: argparse.Namespace) -> int:
    from osuny_pipeline.cms.db import check_connection, get_engine
    from osuny_pipeline.cms.migrate import current_revision, upgrade

    engine = get_engine()
    check_connection(engine)
    upgrade(engine)
    print(f"database at revision {current_revision(engine)}")
    return 0

"""CLI of the CMS area: `db upgrade`, `load`, `seed` and `prepare-demo`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    db = subparsers.add_parser("db", help="manage the CMS database schema")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_sub.add_parser("upgrade", help="apply the schema migrations (creates the database if needed)")
    up.set_defaults(handler=_upgrade)

    load = subparsers.add_parser("load", help="load fixture files (YAML) into the CMS database")
    load.add_argument("files", nargs="+", type=Path, metavar="FILE.yaml")
    load.set_defaults(handler=_load)

    seed = subparsers.add_parser("seed", help="generate a large, realistic fixture (deterministic)")
    seed.add_argument("--websites", type=int, default=1, help="number of websites (site-001, ...)")
    seed.add_argument("--scale", type=float, default=1.0, help="1.0 ~ a real Osuny site (~3,700 files)")
    seed.add_argument("--seed", type=int, default=0, help="random seed: same seed, same bytes")
    seed.add_argument("--languages", default="fr", help="comma-separated languages, first is the default")
    seed.add_argument("--out", type=Path,
                      help="write the fixture here, as YAML (JSON if it ends in .json; much faster to load); "
                           "default: stdout")
    seed.add_argument("--load", action="store_true", help="also load it into the CMS database")
    seed.add_argument("--remote-dir", default="./remotes",
                      help="repositories are <remote-dir>/<website>.git (default ./remotes)")
    seed.set_defaults(handler=_seed)

    demo = subparsers.add_parser(
        "prepare-demo", help="migrate the database, create the demo's bare remote, load the demo website")
    demo.set_defaults(handler=_prepare_demo)


def _upgrade(args: argparse.Namespace) -> int:
    from osuny_pipeline.cms.db import check_connection, get_engine
    from osuny_pipeline.cms.migrate import current_revision, upgrade

    engine = get_engine()
    check_connection(engine)
    upgrade(engine)
    print(f"database at revision {current_revision(engine)}")
    return 0


def _load(args: argparse.Namespace) -> int:
    from osuny_pipeline.cms.db import open_database
    from osuny_pipeline.cms.loader import load_fixture_file

    engine = open_database()
    for path in args.files:
        summary = load_fixture_file(engine, path)
        print(f"{path}:")
        for line in summary.lines() or ["nothing to load"]:
            print(f"  {line}")
    return 0


def _seed(args: argparse.Namespace) -> int:
    from osuny_pipeline.cms.seed import build_fixture, dump_fixture, dump_fixture_json
    from osuny_pipeline.errors import FixtureError

    if args.websites < 1 or args.scale <= 0:
        raise FixtureError("seed: --websites must be >= 1 and --scale > 0")
    languages = [lang.strip() for lang in args.languages.split(",") if lang.strip()]
    remote_dir = Path(args.remote_dir).expanduser().resolve()
    fixture = build_fixture(args.websites, args.scale, args.seed, languages=languages,
                            remote_dir=str(remote_dir))
    as_json = bool(args.out) and args.out.suffix.lower() == ".json"
    text = dump_fixture_json(fixture) if as_json else dump_fixture(fixture)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out} ({len(text.encode()) // 1024} KB)")
    elif not args.load:
        sys.stdout.write(text)
    if args.load:
        from osuny_pipeline.cms.db import open_database
        from osuny_pipeline.cms.loader import load_fixture

        engine = open_database()
        summary = load_fixture(engine, fixture, base_dir=Path.cwd())
        for line in summary.lines():
            print(line)
    return 0


def _prepare_demo(args: argparse.Namespace) -> int:
    from osuny_pipeline.cms.demo import prepare_demo

    for line in prepare_demo():
        print(line)
    return 0

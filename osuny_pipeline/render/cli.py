"""CLI: `generate [--website KEY]`.

A file that fails to render is reported (and recorded on its git_file, shown by `status`)
but does not fail the command: the rest of the website was generated.
"""

from __future__ import annotations

import argparse
import uuid


def register(subparsers: argparse._SubParsersAction) -> None:
    gen = subparsers.add_parser("generate", help="phase 2: render identified files, store what changed")
    gen.add_argument("--website", metavar="KEY", help="one website (default: every website with work)")
    gen.set_defaults(handler=_generate)


def _generate(args: argparse.Namespace) -> int:
    from osuny_pipeline.cms.db import open_database
    from osuny_pipeline.cms.models import utcnow
    from osuny_pipeline.render.generate import generate_website, terminal_progress
    from osuny_pipeline.websites import websites_to_process

    engine = open_database()
    run_id = f"cli-{uuid.uuid4().hex[:12]}"
    for website_id in websites_to_process(engine, args.website):
        result = generate_website(engine, website_id, now=utcnow(), run_id=run_id,
                                  progress=terminal_progress(f"generate {website_id}"))
        print(f"{website_id}: {result.summary} ({result.seconds:.2f} s)")
        for owner, error in sorted(result.failed.items()):
            print(f"  failed {owner}: {error}")
    return 0

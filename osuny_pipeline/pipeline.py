"""The phases as one-call steps over an engine: what the CLI's composite commands and the
Dagster assets run. Each opens its own transactions; none imports Dagster."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session


def identify(engine: Engine, website_id: str, *, now: datetime, upto: int | None = None, full: bool = False):
    """Phase 1 for one website, committed: returns the graph's `Identification`."""
    from osuny_pipeline.graph.identify import identify_website

    with Session(engine, expire_on_commit=False) as session:
        result = identify_website(session, website_id, now=now, upto=upto, full=full)
        session.commit()
    return result

"""Which websites a command works on."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import Website
from osuny_pipeline.errors import OsunyError


class UnknownWebsite(OsunyError):
    pass


def website_keys(session: Session) -> list[str]:
    return list(session.scalars(select(Website.id).order_by(Website.id)))


def unknown_website(session: Session, key: str) -> UnknownWebsite:
    """The one error every phase raises for a website key that does not exist."""
    known = ", ".join(website_keys(session)[:10]) or "none"
    return UnknownWebsite(f"unknown website {key!r} (known: {known})")


def require_website(session: Session, key: str) -> Website:
    website = session.get(Website, key)
    if website is None:
        raise unknown_website(session, key)
    return website


def websites_to_process(engine: Engine, key: str | None) -> list[str]:
    """`[key]` after checking it exists, or every website."""
    with Session(engine) as session:
        if key:
            require_website(session, key)
            return [key]
        return website_keys(session)

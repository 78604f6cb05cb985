"""Per-file lineage: which object a path renders, when and by which run it was last
rendered, and which commit pushed it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import GitFile
from osuny_pipeline.owners import FileOwner


def lineage(session: Session, website_id: str, path: str) -> dict[str, Any] | None:
    """The git_file behind `path` (its current path first, else the path the remote still
    has), as plain data; None when no git_file owns the path."""
    path = path.strip().lstrip("/")
    row = session.scalars(
        select(GitFile)
        .where(GitFile.website_id == website_id, or_(GitFile.current_path == path, GitFile.previous_path == path))
        .order_by(case((GitFile.current_path == path, 0), else_=1), GitFile.id)
        .limit(1)
    ).first()
    if row is None:
        return None
    owner = FileOwner(row.about_type, row.about_id, row.language)
    return {
        "website": website_id,
        "path": path,
        "owner": str(owner),
        "about": {"type": row.about_type, "id": row.about_id, "language": row.language},
        "current_path": row.current_path,
        "current_sha": row.current_sha,
        "previous_path": row.previous_path,
        "previous_sha": row.previous_sha,
        "generated_at": _iso(row.generated_at),
        "rendered_run_id": row.rendered_run_id,
        "desynchronized_at": _iso(row.desynchronized_at),
        "synced_commit": row.synced_commit,
        "synced_at": _iso(row.synced_at),
        "error": row.error,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None

"""git_files storage shared by the phases: blob SHAs, content-addressed contents, and
the identification -> generation hand-over."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import GitContent, GitFile
from osuny_pipeline.owners import FileOwner


def blob_sha(data: bytes) -> str:
    """The git blob id of `data`: "same content" and "the remote has it" are one test."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def put_content(session: Session, data: bytes) -> str:
    """Store `data` once (by SHA, compressed) and return its blob SHA. One INSERT that
    ignores a row already there: two generators racing on the same content both succeed."""
    sha = blob_sha(data)
    insert = dialect_insert(session)
    session.execute(insert(GitContent).values(sha=sha, size=len(data), data=zlib.compress(data, 6))
                    .on_conflict_do_nothing(index_elements=["sha"]))
    return sha


def get_content(session: Session, sha: str) -> bytes:
    row = session.get(GitContent, sha)
    if row is None:
        raise LookupError(f"no stored content for blob {sha}")
    return zlib.decompress(row.data)


def get_or_create_git_file(session: Session, website_id: str, owner: FileOwner) -> GitFile:
    row = session.scalars(
        select(GitFile).where(
            GitFile.website_id == website_id,
            GitFile.about_type == owner.about_type,
            GitFile.about_id == owner.about_id,
            GitFile.language == owner.language,
        )
    ).one_or_none()
    if row is None:
        row = GitFile(website_id=website_id, about_type=owner.about_type, about_id=owner.about_id,
                      language=owner.language)
        session.add(row)
        session.flush()
    return row


def dialect_insert(session: Session):
    """INSERT with ON CONFLICT for the session's backend (SQLite and PostgreSQL share it)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def mark_identified(session: Session, website_id: str, owners: Iterable[FileOwner], now: datetime) -> int:
    """Ask generation to render these files: one upsert, safe against racing writers.

    Missing rows are created never-generated (sync ignores them until generation fills
    them); a row already waiting keeps its first request time."""
    rows = [
        {"website_id": website_id, "about_type": o.about_type, "about_id": o.about_id,
         "language": o.language, "identified_at": now}
        for o in sorted(set(owners))
    ]
    if not rows:
        return 0
    insert = dialect_insert(session)
    stmt = insert(GitFile)
    stmt = stmt.on_conflict_do_update(
        index_elements=["website_id", "about_type", "about_id", "language"],
        set_={"identified_at": func.coalesce(GitFile.identified_at, stmt.excluded.identified_at)},
    )
    # executemany: one statement prepared once (psycopg 3 pipelines it), not one huge VALUES list.
    session.execute(stmt, rows)
    return len(rows)

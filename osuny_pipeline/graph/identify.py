"""Phase 1, identification: from change-log rows to the set of files to re-render.

For each distinct changed object X (a thousand saves of one post's blocks are one object):
the files X carries, the files of its recursive dependencies and of its references, the
files whose last render read X (`git_file_dependencies`, recorded by generation: that is
how deletions and renames reach pages that listed the old object), and the files of
every indirect object whose connection to the website appeared or vanished on the way.

Identification over-approximates on purpose: generation compares what it renders with
what is stored and writes nothing when they are equal. It must not *miss* a file, and it
must not create files on a website that does not show an object (a person edit is
ignored by websites that are not connected to that person).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import ChangeLog, GitFile, GitFileDependency, WebsiteState
from osuny_pipeline.graph.connections import ConnectionDelta, connected_objects_in, rebuild_in, refresh_in
from osuny_pipeline.graph.dependencies import (
    prefetch_closure,
    prefetch_references,
    recursive_dependencies_in,
    references_in,
)
from osuny_pipeline.graph.snapshot import Snapshot, chunks
from osuny_pipeline.owners import (
    DIRECT_TYPES,
    INDIRECT_TYPES,
    LOCALIZED_TYPES,
    SECTIONS,
    FileOwner,
    ObjectRef,
)
from osuny_pipeline.store import mark_identified
from osuny_pipeline.websites import unknown_website

# Beyond this many changed objects, load the whole website's rows and content up front:
# a few dozen bulk queries instead of a handful per object.
PRELOAD_THRESHOLD = 50


class ChangeRow(Protocol):
    id: int
    about_type: str | None
    about_id: str | None
    website_id: str | None


@dataclass(frozen=True)
class Identification:
    website_id: str
    owners: frozenset[FileOwner]
    changes_read: int
    objects: int
    connections_added: int
    connections_removed: int
    cursor: int
    full: bool = False

    def summary(self) -> str:
        kind = " (full)" if self.full else ""
        return (f"{self.website_id}{kind}: {self.changes_read} changes, {self.objects} objects, "
                f"{len(self.owners)} files identified, connections +{self.connections_added} "
                f"-{self.connections_removed}, cursor {self.cursor}")


# ---------------------------------------------------------------------------- owners


def _require_website(snap: Snapshot, website_id: str):
    site = snap.website(website_id)
    if site is None:
        raise unknown_website(snap.session, website_id)
    return site


def owners_of_in(snap: Snapshot, website_id: str, ref: ObjectRef) -> set[FileOwner]:
    site = _require_website(snap, website_id)
    if ref.type == "website":
        return website_owners_in(snap, website_id) if ref.id == website_id else set()
    if ref.type == "block":
        block = snap.block(ref.id)
        return owners_of_in(snap, website_id, block.owner) if block else set()
    # Existing files are always re-examined: generation deletes those of deleted,
    # unpublished or disconnected objects.
    owners = set(snap.site_git_files(website_id).get(ref, ()))
    row = snap.row(ref)
    if row is None:
        return owners
    if ref.type in DIRECT_TYPES and row.website_id != website_id:
        return owners
    if ref.type in LOCALIZED_TYPES:
        active = set(site.languages)
        owners.update(FileOwner(ref.type, ref.id, l10n.language)
                      for l10n in snap.localizations(ref) if l10n.language in active)
    elif ref.type in ("media", "menu"):
        owners.add(FileOwner(ref.type, ref.id, ""))
    return owners


def website_owners_in(snap: Snapshot, website_id: str) -> set[FileOwner]:
    site = _require_website(snap, website_id)
    snap.load_website_rows(website_id)
    direct = [ObjectRef(t, i) for t in ("page", "post", "category", "menu")
              for i in snap.website_members(website_id, t)]
    indirect = sorted({i for i in connected_objects_in(snap, website_id)})
    snap.load_rows(indirect)
    snap.load_blocks(r.id for r in indirect if r.type == "block")
    snap.load_l10ns(r for r in [*direct, *indirect] if r.type in LOCALIZED_TYPES)
    owners: set[FileOwner] = set()
    for ref in [*direct, *indirect]:
        owners |= owners_of_in(snap, website_id, ref)
    for language in site.languages:
        owners.update(FileOwner("section", section, language) for section in SECTIONS)
        owners.add(FileOwner("website", website_id, language))
    owners.add(FileOwner("website_config", website_id, ""))
    for files in snap.site_git_files(website_id).values():
        owners |= files
    return owners


def owners_of(session: Session, website_id: str, ref: ObjectRef) -> set[FileOwner]:
    """The files `ref` carries on the website (its existing git_files included)."""
    from osuny_pipeline.cms.models import utcnow

    # Owners do not depend on time; the snapshot's clock is only used by publication.
    return owners_of_in(Snapshot(session, utcnow()), website_id, ref)


def website_owners(session: Session, website_id: str, *, now: datetime) -> set[FileOwner]:
    return website_owners_in(Snapshot(session, now), website_id)


def readers_of_in(snap: Snapshot, website_id: str, refs: Iterable[ObjectRef]) -> set[FileOwner]:
    """Files of the website whose last render read one of `refs` (exact references)."""
    by_type: dict[str, list[str]] = {}
    for ref in refs:
        by_type.setdefault(ref.type, []).append(ref.id)
    owners: set[FileOwner] = set()
    for type_, ids in sorted(by_type.items()):
        for chunk in chunks(sorted(set(ids))):
            query = (select(GitFile.about_type, GitFile.about_id, GitFile.language).distinct()
                     .join(GitFileDependency, GitFileDependency.git_file_id == GitFile.id)
                     .where(GitFile.website_id == website_id, GitFileDependency.about_type == type_,
                            GitFileDependency.about_id.in_(list(chunk))))
            owners.update(FileOwner(r.about_type, r.about_id, r.language) for r in snap.session.execute(query))
    return owners


# ---------------------------------------------------------------------------- identification


def _changed_objects(website_id: str, changes: Iterable[Any]) -> tuple[dict[ObjectRef, bool], int, int]:
    """Distinct changed objects (first seen first) -> whether a change row named this website;
    plus the number of rows read and the highest id."""
    objects: dict[ObjectRef, bool] = {}
    read = 0
    top = 0
    for change in changes:
        read += 1
        top = max(top, int(change.id or 0))
        if not change.about_type or not change.about_id:  # e.g. a block deleted with its localization
            continue
        ref = ObjectRef(change.about_type, str(change.about_id))
        objects[ref] = objects.get(ref, False) or change.website_id == website_id
    return objects, read, top


def identify_full_in(snap: Snapshot, website_id: str, *, changes_read: int = 0, objects: int = 0,
                     cursor: int = 0) -> Identification:
    """The whole site: every connection rebuilt, every file the site may carry."""
    _require_website(snap, website_id)
    delta = rebuild_in(snap, website_id)
    owners = website_owners_in(snap, website_id)
    for ref in delta.changed:
        owners |= owners_of_in(snap, website_id, ref)
    return Identification(website_id, frozenset(owners), changes_read, objects, len(delta.added_rows),
                          len(delta.removed_rows), cursor, full=True)


def identify_objects_in(snap: Snapshot, website_id: str, objects: dict[ObjectRef, bool], *,
                        changes_read: int, cursor: int) -> Identification:
    _require_website(snap, website_id)
    if any(ref == ObjectRef("website", website_id) for ref in objects):
        return identify_full_in(snap, website_id, changes_read=changes_read, objects=len(objects),
                                cursor=cursor)
    # Another website's row cannot be read for this site; anything else is examined.
    refs = [ref for ref in objects if ref.type != "website"]
    if len(refs) > PRELOAD_THRESHOLD:
        snap.load_website_rows(website_id)
        prefetch_closure(snap, refs)
        prefetch_references(snap, refs)

    git_files = snap.site_git_files(website_id)
    connected = connected_objects_in(snap, website_id)
    walked: list[ObjectRef] = []
    for ref in refs:
        if ref.type in INDIRECT_TYPES:
            # Shown by this website (connected) or had a file here: otherwise not our business.
            if ref in connected or ref in git_files:
                walked.append(ref)
        else:
            row = snap.row(ref)
            if (row is not None and row.website_id == website_id) or objects[ref] or ref in git_files:
                walked.append(ref)

    candidates: set[ObjectRef] = set()
    for ref in walked:
        candidates.add(ref)
        candidates.update(recursive_dependencies_in(snap, ref))
        # Before refreshing connections: a person's former sources must still be found.
        candidates.update(references_in(snap, ref, website_hint=website_id))

    sources = {ref for ref in walked if ref.type in DIRECT_TYPES}
    for ref in walked:
        if ref.type in INDIRECT_TYPES:
            sources |= connected.get(ref, set())
    delta: ConnectionDelta = refresh_in(snap, website_id, sources)
    candidates |= delta.changed

    owners = readers_of_in(snap, website_id, refs)
    connected_now = connected_objects_in(snap, website_id)
    shown = connected_now.keys() | git_files.keys() | delta.changed
    for ref in sorted(candidates):
        if ref.type == "block":
            block = snap.block(ref.id)
            if block is None:
                continue
            ref = block.owner
        if ref.type in INDIRECT_TYPES and ref not in shown:
            continue
        owners |= owners_of_in(snap, website_id, ref)
    return Identification(website_id, frozenset(owners), changes_read, len(objects), len(delta.added_rows),
                          len(delta.removed_rows), cursor)


def identify(session: Session, website_id: str, changes: Sequence[ChangeRow], *, now: datetime) -> Identification:
    """The deduplicated owners to regenerate on the website for these change rows
    (connections are refreshed on the way). Does not mark anything: see identify_website."""
    objects, read, top = _changed_objects(website_id, changes)
    return identify_objects_in(Snapshot(session, now), website_id, objects, changes_read=read, cursor=top)


# ---------------------------------------------------------------------------- the change log


@dataclass(frozen=True)
class _GroupedChange:
    id: int
    about_type: str | None
    about_id: str | None
    website_id: str | None


def _read_changes(session: Session, website_id: str, after: int, upto: int | None):
    """The change rows of the website (and of indirect objects), grouped by object in SQL:
    a burst of 1,000 saves comes back as one line."""
    window = [ChangeLog.id > after, or_(ChangeLog.website_id == website_id, ChangeLog.website_id.is_(None))]
    if upto is not None:
        window.append(ChangeLog.id <= upto)
    names_site = func.max(case((ChangeLog.website_id == website_id, 1), else_=0))
    query = (select(ChangeLog.about_type, ChangeLog.about_id, func.count().label("n"),
                    func.max(ChangeLog.id).label("top"), func.min(ChangeLog.id).label("first"),
                    names_site.label("names_site"))
             .where(*window).group_by(ChangeLog.about_type, ChangeLog.about_id)
             .order_by(func.min(ChangeLog.id)))
    groups = []
    read = 0
    top = 0
    for row in session.execute(query):
        read += row.n
        top = max(top, row.top)
        groups.append(_GroupedChange(row.top, row.about_type, row.about_id,
                                     website_id if row.names_site else None))
    return groups, read, top


def identify_website(session: Session, website_id: str, *, now: datetime, upto: int | None = None,
                     full: bool = False) -> Identification:
    """Consume the website's change log past its cursor, identify, mark the files for
    generation, advance the cursor. The caller commits."""
    snap = Snapshot(session, now)
    _require_website(snap, website_id)
    state = session.get(WebsiteState, website_id)
    if state is None:
        state = WebsiteState(website_id=website_id, identified_change_id=0)
        session.add(state)
        session.flush()
    groups, read, top = _read_changes(session, website_id, state.identified_change_id, upto)
    cursor = max(state.identified_change_id, top)
    objects, _, _ = _changed_objects(website_id, groups)
    if full:
        result = identify_full_in(snap, website_id, changes_read=read, objects=len(objects), cursor=cursor)
    else:
        result = identify_objects_in(snap, website_id, objects, changes_read=read, cursor=cursor)
    mark_identified(session, website_id, result.owners, now)
    state.identified_change_id = cursor
    state.last_identified_at = now
    session.flush()
    return result

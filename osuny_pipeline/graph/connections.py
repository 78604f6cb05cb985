"""Connections: a website shows an indirect object *because* a direct source depends on it.

A connection row (website, indirect object, direct source) exists exactly when the source
is published on that website and the indirect object is in the source's recursive
dependencies. Refreshing a source recomputes its desired set and applies the delta:
missing rows are inserted, obsolete ones deleted. Dependencies are never read *from*
connections (Osuny's feedback loop that inflated its connection counts).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, delete, or_
from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import Connection
from osuny_pipeline.graph.dependencies import is_published_in, prefetch_closure, recursive_dependencies_in
from osuny_pipeline.graph.snapshot import Snapshot, chunks
from osuny_pipeline.owners import INDIRECT_TYPES, ObjectRef
from osuny_pipeline.store import dialect_insert

Pair = tuple[ObjectRef, ObjectRef]  # (indirect object, direct source)


@dataclass(frozen=True)
class ConnectionDelta:
    """Indirect objects that gained or lost a connection row (with the rows themselves)."""

    added_rows: frozenset[Pair] = field(default_factory=frozenset)
    removed_rows: frozenset[Pair] = field(default_factory=frozenset)

    @property
    def added(self) -> frozenset[ObjectRef]:
        return frozenset(indirect for indirect, _ in self.added_rows)

    @property
    def removed(self) -> frozenset[ObjectRef]:
        return frozenset(indirect for indirect, _ in self.removed_rows)

    @property
    def changed(self) -> frozenset[ObjectRef]:
        return self.added | self.removed

    def __add__(self, other: ConnectionDelta) -> ConnectionDelta:
        return ConnectionDelta(self.added_rows | other.added_rows, self.removed_rows | other.removed_rows)


def desired_connections_in(snap: Snapshot, website_id: str, source: ObjectRef) -> set[Pair]:
    """The rows `source` should have on `website_id`: none unless it is published there."""
    row = snap.row(source)
    if row is None or row.website_id != website_id or not is_published_in(snap, source):
        return set()
    return {(dep, source) for dep in recursive_dependencies_in(snap, source) if dep.type in INDIRECT_TYPES}


def _apply(snap: Snapshot, website_id: str, add: set[Pair], remove: set[Pair]) -> ConnectionDelta:
    session = snap.session
    if add:
        insert = dialect_insert(session)
        rows = [{"website_id": website_id, "indirect_type": i.type, "indirect_id": i.id,
                 "source_type": s.type, "source_id": s.id} for i, s in sorted(add)]
        # executemany of one small statement: compiling a 500-row VALUES list costs more
        # than running it. ON CONFLICT DO NOTHING: a concurrent identification may have
        # inserted the same row.
        session.connection().execute(insert(Connection.__table__).on_conflict_do_nothing(), rows)
    for chunk in chunks(sorted(remove), 200):
        session.execute(delete(Connection).where(
            Connection.website_id == website_id,
            or_(*(and_(Connection.indirect_type == i.type, Connection.indirect_id == i.id,
                       Connection.source_type == s.type, Connection.source_id == s.id) for i, s in chunk))))
    current = snap.site_connections(website_id)
    current |= add
    current -= remove
    return ConnectionDelta(frozenset(add), frozenset(remove))


def refresh_in(snap: Snapshot, website_id: str, sources: Iterable[ObjectRef]) -> ConnectionDelta:
    """Bring the connection rows of these direct sources on the website up to date."""
    sources = sorted(set(sources))
    if not sources:
        return ConnectionDelta()
    prefetch_closure(snap, sources)
    wanted = set(sources)
    desired: set[Pair] = set()
    for source in sources:
        desired |= desired_connections_in(snap, website_id, source)
    existing = {pair for pair in snap.site_connections(website_id) if pair[1] in wanted}
    return _apply(snap, website_id, desired - existing, existing - desired)


def refresh_connections(session: Session, website_id: str, source: ObjectRef, *, now: datetime) -> ConnectionDelta:
    """Refresh one direct source's connections on a website (rows inserted/deleted)."""
    return refresh_in(Snapshot(session, now), website_id, [source])


def rebuild_in(snap: Snapshot, website_id: str) -> ConnectionDelta:
    """Every direct source of the website, plus the sources of stale rows (deleted objects)."""
    snap.load_website_rows(website_id)
    sources = {ObjectRef(t, i) for t in ("page", "post", "category", "menu")
               for i in snap.website_members(website_id, t)}
    sources |= {source for _, source in snap.site_connections(website_id)}
    return refresh_in(snap, website_id, sources)


def rebuild_connections(session: Session, website_id: str, *, now: datetime) -> ConnectionDelta:
    return rebuild_in(Snapshot(session, now), website_id)


def connected_objects_in(snap: Snapshot, website_id: str) -> dict[ObjectRef, set[ObjectRef]]:
    """Indirect object -> its direct sources on the website."""
    out: dict[ObjectRef, set[ObjectRef]] = defaultdict(set)
    for indirect, source in snap.site_connections(website_id):
        out[indirect].add(source)
    return out

"""Phase 2, generation: render each identified git_file, store only what changed.

For every git_file that identification marked (`identified_at` set):
render it, compute its git blob SHA, compare with what is stored.
- unchanged: no write (the second generation of an unchanged site writes nothing);
- changed or moved: store the content (content-addressed), set current_path/current_sha/
  generated_at, and keep the FIRST desynchronized_at while the file stays pending;
- "no file" (unpublished, deleted, disconnected): mark for deletion (current_path NULL),
  or drop the row at once if the remote never had it;
- render error: recorded on that git_file only; the rest of the website still renders.

It also records, per file, the objects its render read (`git_file_dependencies`): the
exact references identification uses when those objects change or disappear, and the
URL history (`permalinks`) whose previous entries become Hugo aliases.

Work is committed per chunk, so a crash loses at most one chunk and a re-run resumes.
`identified_at` is cleared compare-and-clear: an identification that lands during the
render keeps the file pending for the next run.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, bindparam, delete, select, update
from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import GitContent, GitFile, GitFileDependency, Permalink, WebsiteState
from osuny_pipeline.errors import OsunyError
from osuny_pipeline.owners import FileOwner, ObjectRef
from osuny_pipeline.store import blob_sha, dialect_insert, put_content
from osuny_pipeline.websites import require_website

CHUNK = 500
MAX_RECORDED_CHANGES = 1000


@dataclass
class FileChange:
    path: str
    owner: str
    action: str  # added | updated | moved | deleted
    sha: str | None


@dataclass
class GenerationResult:
    website_id: str
    rendered: int = 0
    changed: int = 0
    unchanged: int = 0
    deleted: int = 0
    dropped: int = 0  # never pushed, no longer needed: the row is gone
    failed: dict[str, str] = field(default_factory=dict)  # owner -> error
    # The first changes, for the Dagster table and the CLI (the counts above are complete):
    # a 50k-file first generation must not keep 50k of them in memory.
    changes: list[FileChange] = field(default_factory=list)

    def record(self, change: FileChange) -> None:
        if len(self.changes) < MAX_RECORDED_CHANGES:
            self.changes.append(change)
    seconds: float = 0.0

    @property
    def summary(self) -> str:
        return (f"{self.rendered} rendered: {self.changed} changed, {self.unchanged} unchanged, "
                f"{self.deleted} to delete, {len(self.failed)} failed")


def generate_website(
    engine: Engine,
    website_id: str,
    *,
    now: datetime,
    run_id: str,
    renderer_factory: Callable[..., object] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> GenerationResult:
    """Render every identified git_file of a website (see the module docstring)."""
    started = time.perf_counter()
    result = GenerationResult(website_id)
    if renderer_factory is None:
        from osuny_pipeline.render.renderer import SiteRenderer as renderer_factory  # noqa: N813
    with Session(engine, expire_on_commit=False) as read_session, Session(engine, expire_on_commit=False) as session:
        require_website(session, website_id)
        renderer = renderer_factory(read_session, website_id, as_of=now)
        ids = list(session.scalars(
            select(GitFile.id).where(GitFile.website_id == website_id, GitFile.identified_at.is_not(None))
            .order_by(GitFile.id)
        ))
        deferred: list[int] = []
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            deferred += _generate_chunk(session, renderer, website_id, chunk, now, run_id, result, retry=False)
            session.commit()
            session.expunge_all()
            if progress:
                progress(min(start + CHUNK, len(ids)), len(ids))
        if deferred:  # paths freed later in the run (a swap, a rename chain) are free now
            _generate_chunk(session, renderer, website_id, deferred, now, run_id, result, retry=True)
        _record_generated(session, website_id, now)
        session.commit()
        read_session.rollback()
    result.seconds = time.perf_counter() - started
    return result


@dataclass
class _Outcome:
    """One file of a chunk, rendered (or failed), waiting to be applied."""

    row: GitFile
    seen: datetime | None  # identified_at when read: the compare-and-clear's witness
    owner: FileOwner
    rendered: object | None = None
    error: str | None = None


def _generate_chunk(
    session: Session, renderer, website_id: str, ids: Sequence[int], now: datetime, run_id: str,
    result: GenerationResult, *, retry: bool,
) -> list[int]:
    """Render a chunk, then apply it with a handful of statements: the database is read per
    chunk (rows, reads, permalinks, the renderer's prefetch, who holds the new paths) and
    written per chunk (one flush, bulk reads, one compare-and-clear per identification time)."""
    rows = list(session.scalars(select(GitFile).where(GitFile.id.in_(ids)).order_by(GitFile.id)))
    reads_by_file = _load_reads(session, [r.id for r in rows])
    permalinks = _load_permalinks(session, website_id, rows)
    owners = [FileOwner(row.about_type, row.about_id, row.language) for row in rows]
    prefetch = getattr(renderer, "prefetch", None)
    if prefetch is not None:
        prefetch(owners)
    outcomes = [_render_one(session, renderer, website_id, row, owner, permalinks)
                for row, owner in zip(rows, owners, strict=True)]
    claims = _PathClaims.load(session, website_id,
                              [o.rendered.path for o in outcomes if o.rendered is not None and o.rendered.path])
    url_holders = _url_holders(session, website_id,
                               [o.rendered.url for o in outcomes if o.rendered is not None and o.rendered.url])
    deferred: list[int] = []
    kept: list[_Outcome] = []  # rows still in the table, to clear
    reads_gone: list[dict] = []
    reads_added: list[dict] = []
    contents: dict[str, bytes] = {}
    for outcome in outcomes:
        row, owner, rendered = outcome.row, outcome.owner, outcome.rendered
        if rendered is not None and rendered.path is not None:
            conflict = claims.conflict(row.id, rendered.path) or _url_conflict(url_holders, owner, rendered.url)
            if conflict and not retry:
                deferred.append(row.id)
                continue
            if conflict:
                outcome.error = conflict
        if outcome.error is not None:
            _record_failure(row, outcome.error, now, result, owner)
            kept.append(outcome)
            continue
        result.rendered += 1
        if rendered.path is None:
            dropped = _apply_no_file(session, row, now, result, owner)
        else:
            dropped = False
            sha = _apply_render(row, rendered.path, rendered.content, now, run_id, result, owner)
            if sha is not None:
                contents[sha] = rendered.content
        claims.moved(row.id, None if dropped else row.current_path, str(owner))
        if dropped:
            continue
        old, new = reads_by_file.get(row.id, set()), set(rendered.reads)
        reads_gone += [{"file_id": row.id, "type": r.type, "id": r.id} for r in sorted(old - new)]
        reads_added += [{"git_file_id": row.id, "about_type": r.type, "about_id": r.id} for r in sorted(new - old)]
        row.error = None
        row.error_at = None
        kept.append(outcome)
    _store_contents(session, contents)
    session.flush()
    _replace_reads(session, reads_gone, reads_added)
    _clear_identified(session, kept)
    return deferred


def _render_one(session: Session, renderer, website_id: str, row: GitFile, owner: FileOwner,
                permalinks: dict[FileOwner, list[Permalink]]) -> _Outcome:
    outcome = _Outcome(row, row.identified_at, owner)
    try:
        url = renderer.permalink(owner)
        aliases = _remember_permalink(session, website_id, owner, url, permalinks.get(owner, []))
        outcome.rendered = renderer.render(owner, aliases=aliases)
    except OsunyError as exc:
        outcome.error = str(exc)
    return outcome


class _PathClaims:
    """Who holds each path a chunk wants: read once per chunk, then kept up to date as the
    chunk's rows move, so each check is a lookup instead of a query."""

    def __init__(self, holders: dict[str, dict[int, str]], paths_of: dict[int, str]):
        self.holders = holders  # path -> {git_file id: owner label}
        self.paths_of = paths_of  # git_file id -> the path it holds (among those paths)

    @classmethod
    def load(cls, session: Session, website_id: str, paths: Iterable[str]) -> _PathClaims:
        wanted = sorted(set(paths))
        holders: dict[str, dict[int, str]] = defaultdict(dict)
        paths_of: dict[int, str] = {}
        for start in range(0, len(wanted), 500):
            for file_id, path, about_type, about_id, language in session.execute(
                select(GitFile.id, GitFile.current_path, GitFile.about_type, GitFile.about_id, GitFile.language)
                .where(GitFile.website_id == website_id, GitFile.current_path.in_(wanted[start:start + 500]))
            ):
                holders[path][file_id] = f"{about_type}:{about_id}{f' ({language})' if language else ''}"
                paths_of[file_id] = path
        return cls(holders, paths_of)

    def conflict(self, file_id: int, path: str) -> str | None:
        others = {i: label for i, label in self.holders.get(path, {}).items() if i != file_id}
        if not others:
            return None
        return f"path {path} is already used by {others[min(others)]}: change one of the slugs"

    def moved(self, file_id: int, path: str | None, label: str) -> None:
        old = self.paths_of.pop(file_id, None)
        if old is not None:
            self.holders[old].pop(file_id, None)
        if path is not None:
            self.holders.setdefault(path, {})[file_id] = label
            self.paths_of[file_id] = path


def _url_holders(session: Session, website_id: str, urls: Iterable[str]) -> dict[str, FileOwner]:
    """Who holds each URL the chunk wants: the first owner to have claimed it (lowest
    permalink id) among the owners whose current URL it is. Two objects at one URL would
    make Hugo write one page over the other."""
    wanted = sorted(set(urls))
    session.flush()  # the chunk's own claims count
    holders: dict[str, FileOwner] = {}
    for start in range(0, len(wanted), 500):
        for url, about_type, about_id, language in session.execute(
            select(Permalink.url, Permalink.about_type, Permalink.about_id, Permalink.language)
            .where(Permalink.website_id == website_id, Permalink.current.is_(True),
                   Permalink.url.in_(wanted[start:start + 500]))
            .order_by(Permalink.id)
        ):
            holders.setdefault(url, FileOwner(about_type, about_id, language))
    return holders


def _url_conflict(holders: dict[str, FileOwner], owner: FileOwner, url: str | None) -> str | None:
    holder = holders.get(url) if url else None
    if holder is None or holder == owner:
        return None
    return f"URL {url} is already used by {holder}: change one of the slugs"


def _apply_render(row: GitFile, path: str, content: bytes, now: datetime, run_id: str,
                  result: GenerationResult, owner: FileOwner) -> str | None:
    """Update the row for this render; returns the SHA to store, None when unchanged."""
    sha = blob_sha(content)
    if row.generated_at is not None and row.current_path == path and row.current_sha == sha:
        result.unchanged += 1
        return None
    action = _action_for(row, path)
    row.current_path, row.current_sha = path, sha
    row.generated_at = now
    row.rendered_run_id = run_id
    if row.previous_path == path and row.previous_sha == sha:
        row.desynchronized_at = None  # back to what the remote has: nothing to push
    elif row.desynchronized_at is None:
        row.desynchronized_at = now  # FIFO: the first desync time is kept while pending
    result.changed += 1
    result.record(FileChange(path, str(owner), action, sha))
    return sha


def _store_contents(session: Session, contents: dict[str, bytes]) -> None:
    """Store the chunk's new contents; those already stored (this website's or another's)
    are found in one query and not compressed again."""
    shas = sorted(contents)
    stored: set[str] = set()
    for start in range(0, len(shas), 500):
        stored.update(session.scalars(select(GitContent.sha).where(GitContent.sha.in_(shas[start:start + 500]))))
    for sha in shas:  # in SHA order: two racing generators take the same locks in the same order
        if sha not in stored:
            put_content(session, contents[sha])


def _action_for(row: GitFile, path: str) -> str:
    if row.previous_path is None:
        return "added"
    if row.previous_path != path:
        return "moved"
    return "updated"


def _apply_no_file(session: Session, row: GitFile, now: datetime, result: GenerationResult,
                   owner: FileOwner) -> bool:
    """Mark the file for deletion; returns True when the row was dropped instead."""
    if row.previous_path is None:
        # The remote never had it (Osuny #4217): nothing to delete, the row just goes.
        # A plain DELETE: a racing generator may have dropped it already.
        session.execute(delete(GitFile).where(GitFile.id == row.id).execution_options(synchronize_session=False))
        session.expunge(row)
        result.dropped += 1
        return True
    if row.generated_at is not None and row.current_path is None:
        result.unchanged += 1  # already waiting for deletion
        return False
    row.current_path = None
    row.current_sha = None
    row.generated_at = now
    if row.desynchronized_at is None:
        row.desynchronized_at = now
    result.deleted += 1
    result.record(FileChange(row.previous_path, str(owner), "deleted", None))
    return False


def _record_failure(row: GitFile, message: str, now: datetime, result: GenerationResult,
                    owner: FileOwner) -> None:
    # The file keeps its last good state (and stays in sync if it was); the error says why.
    row.error = message[:2000]
    row.error_at = now
    result.failed[str(owner)] = row.error


def _clear_identified(session: Session, outcomes: Sequence[_Outcome]) -> None:
    """Compare-and-clear, one UPDATE per identification time (usually one per chunk): a
    file identified again during the render keeps its newer identified_at."""
    by_seen: dict[datetime, list[int]] = defaultdict(list)
    for outcome in outcomes:
        if outcome.seen is not None:
            by_seen[outcome.seen].append(outcome.row.id)
    for seen, file_ids in sorted(by_seen.items()):
        for start in range(0, len(file_ids), 500):
            session.execute(
                update(GitFile).where(GitFile.id.in_(file_ids[start:start + 500]), GitFile.identified_at == seen)
                .values(identified_at=None).execution_options(synchronize_session=False)
            )


def _load_reads(session: Session, ids: Iterable[int]) -> dict[int, set[ObjectRef]]:
    reads: dict[int, set[ObjectRef]] = defaultdict(set)
    for file_id, about_type, about_id in session.execute(
        select(GitFileDependency.git_file_id, GitFileDependency.about_type, GitFileDependency.about_id)
        .where(GitFileDependency.git_file_id.in_(list(ids)))
    ):
        reads[file_id].add(ObjectRef(about_type, about_id))
    return reads


def _replace_reads(session: Session, gone: list[dict], added: list[dict]) -> None:
    """Bulk: the reads a render stopped using go, the new ones come (a racing generator may
    have inserted them already: ON CONFLICT DO NOTHING)."""
    if gone:
        session.connection().execute(
            delete(GitFileDependency.__table__).where(
                GitFileDependency.git_file_id == bindparam("file_id"), GitFileDependency.about_type == bindparam("type"),
                GitFileDependency.about_id == bindparam("id"),
            ),
            gone,
        )
    if added:
        insert = dialect_insert(session)
        session.execute(insert(GitFileDependency).on_conflict_do_nothing(), added)


def _load_permalinks(session: Session, website_id: str, rows: Sequence[GitFile]) -> dict[FileOwner, list[Permalink]]:
    about_ids = sorted({r.about_id for r in rows})
    found: dict[FileOwner, list[Permalink]] = defaultdict(list)
    for start in range(0, len(about_ids), 500):
        for link in session.scalars(select(Permalink).where(
            Permalink.website_id == website_id, Permalink.about_id.in_(about_ids[start:start + 500])
        ).order_by(Permalink.id)):
            found[FileOwner(link.about_type, link.about_id, link.language)].append(link)
    return found


def _remember_permalink(session: Session, website_id: str, owner: FileOwner, url: str | None,
                        links: list[Permalink]) -> list[str]:
    """Record `url` as the owner's current URL; return its previous URLs (the aliases).
    An owner with no file any more holds no URL: another object may take it."""
    if url is None:
        for link in links:
            link.current = False
    else:
        current = [link for link in links if link.current]
        # As a set: two racing generators may both have recorded the same current URL.
        if {link.url for link in current} != {url}:
            for link in current:
                link.current = False
            again = next((link for link in links if link.url == url), None)
            if again is not None:
                again.current = True
            else:
                link = Permalink(website_id=website_id, about_type=owner.about_type, about_id=owner.about_id,
                                 language=owner.language, url=url, current=True)
                session.add(link)
                links.append(link)
    return sorted({link.url for link in links if not link.current and link.url != url})


def _record_generated(session: Session, website_id: str, now: datetime) -> None:
    state = session.get(WebsiteState, website_id)
    if state is None:
        state = WebsiteState(website_id=website_id)
        session.add(state)
    state.last_generated_at = now


def terminal_progress(label: str) -> Callable[[int, int], None] | None:
    """A one-line progress bar on stderr, only when it is a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        width = 30
        filled = int(width * done / total) if total else width
        sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show

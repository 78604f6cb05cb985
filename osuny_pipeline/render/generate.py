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

from sqlalchemy import Engine, and_, delete, select, update
from sqlalchemy.orm import Session

from osuny_pipeline.cms.models import GitFile, GitFileDependency, Permalink, Website, WebsiteState
from osuny_pipeline.errors import OsunyError
from osuny_pipeline.owners import FileOwner, ObjectRef
from osuny_pipeline.store import blob_sha, put_content

CHUNK = 500


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
    changes: list[FileChange] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def summary(self) -> str:
        return (f"{self.rendered} rendered: {self.changed} changed, {self.unchanged} unchanged, "
                f"{self.deleted} to delete, {len(self.failed)} failed")


class PathConflict(OsunyError):
    pass


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
        if session.get(Website, website_id) is None:
            raise OsunyError(f"unknown website {website_id!r}")
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


def _generate_chunk(
    session: Session, renderer, website_id: str, ids: Sequence[int], now: datetime, run_id: str,
    result: GenerationResult, *, retry: bool,
) -> list[int]:
    rows = list(session.scalars(select(GitFile).where(GitFile.id.in_(ids)).order_by(GitFile.id)))
    reads_by_file = _load_reads(session, [r.id for r in rows])
    permalinks = _load_permalinks(session, website_id, rows)
    deferred: list[int] = []
    for row in rows:
        seen = row.identified_at
        owner = FileOwner(row.about_type, row.about_id, row.language)
        try:
            url = renderer.permalink(owner)
            aliases = _remember_permalink(session, website_id, owner, url, permalinks.get(owner, []))
            rendered = renderer.render(owner, aliases=aliases)
            if rendered.path is not None:
                _check_path_is_free(session, row, rendered.path)
        except PathConflict as exc:
            if not retry:
                deferred.append(row.id)
                continue
            _record_failure(session, row, seen, str(exc), now, result, owner)
            continue
        except OsunyError as exc:
            _record_failure(session, row, seen, str(exc), now, result, owner)
            continue
        result.rendered += 1
        if rendered.path is None:
            _apply_no_file(session, row, now, result, owner)
        else:
            _apply_render(session, row, rendered.path, rendered.content, now, run_id, result, owner)
        if row in session:  # not dropped
            _replace_reads(session, row.id, reads_by_file.get(row.id, set()), set(rendered.reads))
            row.error = None
            row.error_at = None
        _clear_identified(session, row, seen)
    return deferred


def _apply_render(session: Session, row: GitFile, path: str, content: bytes, now: datetime, run_id: str,
                  result: GenerationResult, owner: FileOwner) -> None:
    sha = blob_sha(content)
    if row.generated_at is not None and row.current_path == path and row.current_sha == sha:
        result.unchanged += 1
        return
    put_content(session, content)
    action = _action_for(row, path)
    row.current_path, row.current_sha = path, sha
    row.generated_at = now
    row.rendered_run_id = run_id
    if row.previous_path == path and row.previous_sha == sha:
        row.desynchronized_at = None  # back to what the remote has: nothing to push
    elif row.desynchronized_at is None:
        row.desynchronized_at = now  # FIFO: the first desync time is kept while pending
    result.changed += 1
    result.changes.append(FileChange(path, str(owner), action, sha))


def _action_for(row: GitFile, path: str) -> str:
    if row.previous_path is None:
        return "added"
    if row.previous_path != path:
        return "moved"
    return "updated"


def _apply_no_file(session: Session, row: GitFile, now: datetime, result: GenerationResult,
                   owner: FileOwner) -> None:
    if row.previous_path is None:
        # The remote never had it (Osuny #4217): nothing to delete, the row just goes.
        session.delete(row)
        session.flush()
        result.dropped += 1
        return
    if row.generated_at is not None and row.current_path is None:
        result.unchanged += 1  # already waiting for deletion
        return
    row.current_path = None
    row.current_sha = None
    row.generated_at = now
    if row.desynchronized_at is None:
        row.desynchronized_at = now
    result.deleted += 1
    result.changes.append(FileChange(row.previous_path, str(owner), "deleted", None))


def _record_failure(session: Session, row: GitFile, seen: datetime | None, message: str, now: datetime,
                    result: GenerationResult, owner: FileOwner) -> None:
    # The file keeps its last good state (and stays in sync if it was); the error says why.
    row.error = message[:2000]
    row.error_at = now
    result.failed[str(owner)] = row.error
    _clear_identified(session, row, seen)


def _clear_identified(session: Session, row: GitFile, seen: datetime | None) -> None:
    if row not in session:
        return
    session.flush()
    session.execute(
        update(GitFile).where(GitFile.id == row.id, GitFile.identified_at == seen)
        .values(identified_at=None).execution_options(synchronize_session=False)
    )


def _check_path_is_free(session: Session, row: GitFile, path: str) -> None:
    other = session.scalars(
        select(GitFile).where(GitFile.website_id == row.website_id, GitFile.current_path == path,
                              GitFile.id != row.id).limit(1)
    ).first()
    if other is not None:
        raise PathConflict(
            f"path {path} is already used by {other.about_type}:{other.about_id}"
            f"{f' ({other.language})' if other.language else ''}: change one of the slugs"
        )


def _load_reads(session: Session, ids: Iterable[int]) -> dict[int, set[ObjectRef]]:
    reads: dict[int, set[ObjectRef]] = defaultdict(set)
    for file_id, about_type, about_id in session.execute(
        select(GitFileDependency.git_file_id, GitFileDependency.about_type, GitFileDependency.about_id)
        .where(GitFileDependency.git_file_id.in_(list(ids)))
    ):
        reads[file_id].add(ObjectRef(about_type, about_id))
    return reads


def _replace_reads(session: Session, file_id: int, old: set[ObjectRef], new: set[ObjectRef]) -> None:
    gone, added = old - new, new - old
    for ref in sorted(gone):
        session.execute(delete(GitFileDependency).where(
            GitFileDependency.git_file_id == file_id, GitFileDependency.about_type == ref.type,
            GitFileDependency.about_id == ref.id))
    if added:
        session.add_all(GitFileDependency(git_file_id=file_id, about_type=r.type, about_id=r.id)
                        for r in sorted(added))


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
    """Record `url` as the owner's current URL; return its previous URLs (the aliases)."""
    if url is not None:
        current = [link for link in links if link.current]
        if [link.url for link in current] != [url]:
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


def pending_generation(session: Session, website_id: str) -> int:
    return len(session.scalars(select(GitFile.id).where(
        and_(GitFile.website_id == website_id, GitFile.identified_at.is_not(None)))).all())


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

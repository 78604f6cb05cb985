"""Phase 3: push a website's desynchronized git_files to its repository.

`sync_website` under the website's lease:
1. cutoff = now; take the generated, desynchronized files of before the cutoff, oldest
   first (files desynchronized later wait for the next run: a busy site cannot keep a
   run alive forever);
2. write their blobs into the bare mirror and fetch the remote head;
3. build one commit per `batch_size` files, each tree from the previous one (only the
   directories on changed paths are rewritten), chained on the remote head;
4. push the last commit once, never forced; a remote that moved meanwhile is fetched
   and the same changes are rebuilt on its new head (the foreign commit is kept);
5. compare-and-clear: a row becomes synced only if its path and SHA still equal what
   was pushed; a render that landed during the push stays pending.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

import pygit2
from sqlalchemy import Engine, bindparam, delete, select, update
from sqlalchemy.orm import Session

from osuny_pipeline import config
from osuny_pipeline.cms.models import GitContent, GitFile, utcnow
from osuny_pipeline.config import SyncSettings
from osuny_pipeline.errors import redact
from osuny_pipeline.git.credentials import resolve_credentials
from osuny_pipeline.git.errors import NonFastForward, SyncError
from osuny_pipeline.git.lock import WebsiteLease
from osuny_pipeline.git.mirror import Mirror, cache_error, write_blob_pack
from osuny_pipeline.git.remote import parse_remote
from osuny_pipeline.git.state import failures_recorded, one_line, website_state
from osuny_pipeline.git.trees import UnsafePath, build_tree, check_path, path_blob
from osuny_pipeline.owners import FileOwner
from osuny_pipeline.store import blob_sha
from osuny_pipeline.websites import require_website

log = logging.getLogger(__name__)

ACTIONS = ("added", "updated", "moved", "deleted")
# Wait before retry n: BACKOFF_BASE_SECONDS * 2**n, at most BACKOFF_MAX_SECONDS (tests lower them).
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 30.0
MAX_TRAILERS = 200
CONTENT_CHUNK = 500  # stored contents read per query
CLEAR_CHUNK = 500  # rows cleared per executemany after the push
PACK_THRESHOLD = 200  # this many new blobs or more are written as one pack, fewer as loose objects

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class PendingFile:
    """A git_file row as selected at the start of the sync: what we push, and what
    compare-and-clear compares with afterwards."""

    id: int
    owner: FileOwner
    current_path: str | None
    current_sha: str | None
    previous_path: str | None
    previous_sha: str | None

    @property
    def is_deletion(self) -> bool:
        return self.current_path is None


class SyncedFile(NamedTuple):
    path: str
    owner: str
    action: str  # added | updated | moved | deleted
    sha: str | None


@dataclass
class SyncResult:
    website_id: str
    commit: str | None = None  # the pushed tip (None: nothing pushed)
    pushed: bool = False
    files: list[SyncedFile] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ACTIONS, 0))
    batches: int = 0  # commits made
    marked_synced: int = 0
    removed: int = 0  # rows whose deletion was pushed
    stale: int = 0  # rows re-rendered during the push: left pending
    skipped: list[str] = field(default_factory=list)  # rows that could not be synced, with the reason
    selected: int = 0
    attempts: int = 0


@dataclass
class _Batch:
    rows: list[PendingFile]
    commit: pygit2.Oid | None = None  # the commit holding this batch's state
    files: list[SyncedFile] = field(default_factory=list)


# ---------------------------------------------------------------------- entry points


def sync_website(engine: Engine, website_id: str, *, settings: SyncSettings | None = None,
                 now: Clock = utcnow, owner: str | None = None) -> SyncResult:
    """Synchronize one website; on failure the error is recorded on the website and re-raised."""
    settings = settings or SyncSettings.from_env()
    with failures_recorded(engine, website_id, "sync", now), \
            WebsiteLease(engine, website_id, lease_seconds=settings.lock_seconds, now=now, owner=owner) as lease:
        return _sync_locked(engine, website_id, settings, now, lease)


def sync_all(engine: Engine, *, settings: SyncSettings | None = None, now: Clock = utcnow,
             owner: str | None = None) -> dict[str, SyncResult | Exception]:
    """Every website with generated, desynchronized files; one failure never stops the others."""
    settings = settings or SyncSettings.from_env()
    results: dict[str, SyncResult | Exception] = {}
    for website_id in websites_with_pending_files(engine):
        try:
            results[website_id] = sync_website(engine, website_id, settings=settings, now=now, owner=owner)
        except Exception as exc:
            log.error("website %s: %s", website_id, one_line(exc))
            results[website_id] = exc
    return results


def websites_with_pending_files(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(
            select(GitFile.website_id).distinct()
            .where(GitFile.generated_at.is_not(None), GitFile.desynchronized_at.is_not(None))
            .order_by(GitFile.website_id)
        ))


# ---------------------------------------------------------------------- the sync itself


def _sync_locked(engine: Engine, website_id: str, settings: SyncSettings, now: Clock,
                 lease: WebsiteLease) -> SyncResult:
    cutoff = now()
    with Session(engine, expire_on_commit=False) as session, session.begin():
        website = require_website(session, website_id)
        website_state(session, website_id).last_sync_at = cutoff
        rows = select_pending(session, website_id, cutoff)
        repository, branch, reference = website.repository, website.branch or "main", website.credentials

    result = SyncResult(website_id=website_id, selected=len(rows))
    if not rows:
        _record_success(engine, website_id, result, now())
        return result

    remote = parse_remote(repository)
    mirror = Mirror.open(config.git_cache_dir(), website_id=website_id, remote=remote,
                         credentials=resolve_credentials(reference, remote, website_id=website_id), branch=branch)
    rows, skipped = _drop_unsafe(rows)
    blobs_generation: int | None = None
    batches: list[_Batch] = []
    head: pygit2.Commit | None = None
    retries = max(settings.push_retries, 0)

    healed = False
    for attempt in range(retries + 1):
        result.attempts = attempt + 1
        while True:
            head = mirror.fetch()
            if blobs_generation != mirror.generation:  # first pass, or the cache was rebuilt
                rows, unreadable = _write_blobs(engine, mirror, rows)
                skipped.update(unreadable)
                blobs_generation = mirror.generation
            try:
                batches = _build_commits(mirror.repo, head, rows, settings, website_id, now())
                break
            except (pygit2.GitError, KeyError) as exc:
                # An object of the cache is unreadable though the fetch went fine: the
                # cache is corrupt below its refs. It holds nothing of value: rebuild once.
                if healed:
                    raise
                log.warning("website %s: git cache unreadable (%s): rebuilding it", website_id, exc)
                healed = True
                mirror.rebuild()
        tip = batches[-1].commit if batches else None
        if tip is None or (head is not None and tip == head.id):
            break  # the remote already has every change: no commit, just mark the rows
        lease.check()
        try:
            mirror.push(tip)
        except NonFastForward as exc:
            if attempt == retries:
                raise NonFastForward(f"website {website_id}: the remote branch kept moving; "
                                     f"gave up after {attempt + 1} push attempts") from exc
            log.info("website %s: remote moved during the sync, rebuilding on its new head", website_id)
            time.sleep(min(BACKOFF_BASE_SECONDS * 2 ** attempt, BACKOFF_MAX_SECONDS))
            continue
        result.pushed, result.commit = True, str(tip)
        break

    for batch in batches:
        result.files.extend(batch.files)
    result.batches = _count_new_commits(batches, head)
    result.counts.update(Counter(f.action for f in result.files))
    result.skipped = [f"{owner}: {reason}" for owner, reason in sorted(skipped.items())]
    mark_pushed(engine, batches, result, now=now(), skipped=skipped)
    _record_success(engine, website_id, result, now())
    return result


def select_pending(session: Session, website_id: str, cutoff: datetime) -> list[PendingFile]:
    """Generated, desynchronized files of before the cutoff, oldest desync first.
    Never-generated rows are never touched (Osuny once deleted their files)."""
    rows = session.execute(
        select(GitFile.id, GitFile.about_type, GitFile.about_id, GitFile.language, GitFile.current_path,
               GitFile.current_sha, GitFile.previous_path, GitFile.previous_sha)
        .where(GitFile.website_id == website_id, GitFile.generated_at.is_not(None),
               GitFile.desynchronized_at.is_not(None), GitFile.desynchronized_at <= cutoff)
        .order_by(GitFile.desynchronized_at, GitFile.id)
    ).all()
    return [PendingFile(id=r.id, owner=FileOwner(r.about_type, r.about_id, r.language),
                        current_path=r.current_path, current_sha=r.current_sha,
                        previous_path=r.previous_path, previous_sha=r.previous_sha) for r in rows]


def _drop_unsafe(rows: list[PendingFile]) -> tuple[list[PendingFile], dict[str, str]]:
    """Rows whose paths we refuse to write stay pending, with the reason, instead of failing every run."""
    kept, skipped = [], {}
    for row in rows:
        try:
            for path in (row.current_path, row.previous_path):
                if path is not None:
                    check_path(path)
            if not row.is_deletion and not row.current_sha:
                raise SyncError("generated with a path but no content SHA")
        except SyncError as exc:
            skipped[str(row.owner)] = str(exc)
            continue
        kept.append(row)
    return kept, skipped


def _write_blobs(engine: Engine, mirror: Mirror, rows: list[PendingFile]) -> tuple[list[PendingFile], dict[str, str]]:
    """Copy the stored content of every file the mirror lacks into it, reading the store
    by chunks (small RAM). Many blobs go into one pack, a few become loose objects."""
    needed = sorted({r.current_sha for r in rows if not r.is_deletion and r.current_sha not in mirror.repo})
    problems: dict[str, str] = {}  # sha -> why it cannot be written
    try:
        if len(needed) >= PACK_THRESHOLD:
            write_blob_pack(mirror.repo, _verified_streams(engine, needed, problems))
        else:
            for _sha, data, _stream in _stored_contents(engine, needed, problems):
                mirror.repo.create_blob(data)
    except (OSError, pygit2.GitError) as exc:
        raise cache_error(exc, mirror.website_id, mirror.path) or SyncError(
            f"website {mirror.website_id}: cannot write to git cache: {redact(str(exc))}") from None
    kept, skipped = [], {}
    for row in rows:
        if not row.is_deletion and row.current_sha in problems:
            skipped[str(row.owner)] = problems[row.current_sha]
        else:
            kept.append(row)
    return kept, skipped


def _stored_contents(engine: Engine, shas: Sequence[str], problems: dict[str, str]):
    """(sha, content, stored zlib stream) of each SHA whose stored content hashes to it;
    the others are recorded in `problems`."""
    with Session(engine) as session:
        for start in range(0, len(shas), CONTENT_CHUNK):
            chunk = shas[start:start + CONTENT_CHUNK]
            stored = {sha: data for sha, data in session.execute(
                select(GitContent.sha, GitContent.data).where(GitContent.sha.in_(chunk)))}
            for sha in chunk:
                if sha not in stored:
                    problems[sha] = f"no stored content for blob {sha}"
                    continue
                data = zlib.decompress(stored[sha])
                if blob_sha(data) != sha:
                    problems[sha] = f"stored content does not match its SHA {sha}"
                    continue
                yield sha, data, stored[sha]


def _verified_streams(engine: Engine, shas: Sequence[str], problems: dict[str, str]):
    # The store keeps contents as zlib streams: exactly a pack entry's payload, so the
    # bytes go into the pack as they are (checked against their SHA first).
    for sha, data, stream in _stored_contents(engine, shas, problems):
        yield sha, len(data), stream


# ---------------------------------------------------------------------- commits


def _build_commits(repo: pygit2.Repository, head: pygit2.Commit | None, rows: Sequence[PendingFile],
                   settings: SyncSettings, website_id: str, when: datetime) -> list[_Batch]:
    """Chain one commit per batch on `head`. A batch that changes nothing makes no commit:
    its rows are recorded against the commit that already holds their content.

    The first publication (the branch does not exist yet) is one commit: there is no
    earlier state on the remote to step from, and cutting a whole site into batches
    would rewrite its largest directories once per batch (a 50k-file site: 500 commits,
    ~10x slower than one, see docs/benchmarks.md, figure 2)."""
    size = max(settings.batch_size, 1) if head is not None else max(len(rows), 1)
    batches = [_Batch(rows=list(rows[i:i + size])) for i in range(0, len(rows), size)]
    signature = pygit2.Signature(settings.author_name, settings.author_email,
                                 int(when.timestamp()), 0)
    parent: pygit2.Commit | None = head
    for batch in batches:
        tree = parent.tree if parent is not None else None
        changes, batch.files = changes_for(repo, tree, batch.rows)
        if not changes:
            batch.commit = parent.id if parent is not None else None
            continue
        try:
            new_tree = build_tree(repo, tree, changes)
        except UnsafePath as exc:
            raise SyncError(f"website {website_id}: {exc}") from None
        if tree is not None and new_tree == tree.id:
            batch.commit, batch.files = parent.id, []
            continue
        message = commit_message(website_id, batch.files)
        oid = repo.create_commit(None, signature, signature, message, new_tree,
                                 [parent.id] if parent is not None else [])
        parent = repo[oid]
        batch.commit = oid
    return batches


def changes_for(repo: pygit2.Repository, tree: pygit2.Tree | None,
                rows: Iterable[PendingFile]) -> tuple[dict[str, pygit2.Oid | None], list[SyncedFile]]:
    """The path -> blob (None = delete) changes of a batch, and what each file does.
    Deletes (and the old paths of moves) go first, so a path freed by one file can be
    taken by another in the same commit."""
    changes: dict[str, pygit2.Oid | None] = {}
    files: list[SyncedFile] = []
    rows = list(rows)
    for row in rows:
        old = row.previous_path
        if old is None or old == row.current_path or path_blob(repo, tree, old) is None:
            continue
        changes[old] = None
        if row.is_deletion:
            files.append(SyncedFile(old, str(row.owner), "deleted", None))
    for row in rows:
        if row.is_deletion:
            continue
        assert row.current_path is not None and row.current_sha is not None
        path, sha = row.current_path, row.current_sha
        moved = row.previous_path not in (None, path) and row.previous_path in changes
        existing = path_blob(repo, tree, path)
        if moved:
            action = "moved"
        elif existing is None:
            action = "added"
        elif existing != sha:
            action = "updated"
        else:
            if path in changes:  # another file left this path, and ours has the same content
                changes[path] = pygit2.Oid(hex=sha)
            continue
        changes[path] = pygit2.Oid(hex=sha)
        files.append(SyncedFile(path, str(row.owner), action, sha))
    return changes, files


def commit_message(website_id: str, files: Sequence[SyncedFile]) -> str:
    """A summary line of counts, then trailers naming the objects behind the batch, so
    `git log` answers "why did this file change?"."""
    counts = Counter(f.action for f in files)
    summary = ", ".join(f"{counts.get(action, 0)} {action}" for action in ACTIONS)
    owners = sorted({f.owner for f in files})
    trailers = [f"Osuny-Website: {website_id}"]
    trailers += [f"Osuny-Object: {owner}" for owner in owners[:MAX_TRAILERS]]
    if len(owners) > MAX_TRAILERS:
        trailers.append(f"Osuny-Objects-Omitted: {len(owners) - MAX_TRAILERS}")
    return f"Osuny sync: {summary}\n\n" + "\n".join(trailers) + "\n"


def _count_new_commits(batches: Sequence[_Batch], head: pygit2.Commit | None) -> int:
    seen = {head.id} if head is not None else set()
    made = {b.commit for b in batches if b.commit is not None} - seen
    return len(made)


# ---------------------------------------------------------------------- after the push


def mark_pushed(engine: Engine, batches: Sequence[_Batch], result: SyncResult, *, now: datetime,
                skipped: dict[str, str]) -> None:
    """Compare-and-clear in one transaction: a row becomes synced only if its path and SHA
    still equal what went out; a deleted file's row is removed. A row re-rendered meanwhile
    stays pending, but its previous_* learn what the remote now has. Rows are cleared by
    chunks of statements run as executemany (a first publication clears 50,000 rows)."""
    with Session(engine) as session, session.begin():
        for batch in batches:
            commit = str(batch.commit) if batch.commit is not None else None
            deletions = [r for r in batch.rows if r.is_deletion]
            writes = [r for r in batch.rows if not r.is_deletion]
            for start in range(0, len(deletions), CLEAR_CHUNK):
                _clear_deletions(session, deletions[start:start + CLEAR_CHUNK], result)
            for start in range(0, len(writes), CLEAR_CHUNK):
                _clear_writes(session, writes[start:start + CLEAR_CHUNK], commit, now, result)
        if skipped:
            log.warning("website %s: %d file(s) not synced: %s", result.website_id, len(skipped),
                        "; ".join(f"{k}: {v}" for k, v in sorted(skipped.items())[:10]))


def _clear_deletions(session: Session, rows: Sequence[PendingFile], result: SyncResult) -> None:
    table = GitFile.__table__
    session.execute(delete(table).where(table.c.id == bindparam("row_id"), table.c.current_path.is_(None)),
                    [{"row_id": r.id} for r in rows])
    # Still there: published again during the push; the remote no longer has the old file.
    kept = list(session.scalars(select(GitFile.id).where(GitFile.id.in_([r.id for r in rows]))))
    if kept:
        session.execute(update(GitFile).where(GitFile.id.in_(kept)).values(previous_path=None, previous_sha=None)
                        .execution_options(synchronize_session=False))
    result.removed += len(rows) - len(kept)
    result.stale += len(kept)


def _clear_writes(session: Session, rows: Sequence[PendingFile], commit: str | None, now: datetime,
                  result: SyncResult) -> None:
    table = GitFile.__table__
    session.execute(
        update(table)
        .where(table.c.id == bindparam("row_id"), table.c.current_path == bindparam("pushed_path"),
               table.c.current_sha == bindparam("pushed_sha"))
        .values(previous_path=bindparam("pushed_path"), previous_sha=bindparam("pushed_sha"),
                desynchronized_at=None, synced_commit=commit, synced_at=now),
        [{"row_id": r.id, "pushed_path": r.current_path, "pushed_sha": r.current_sha} for r in rows],
    )
    # In this transaction, a row the update matched holds the pushed path and SHA and is in
    # sync; any other was re-rendered during the push (or removed) and stays pending.
    now_rows = {i: (path, sha, desync) for i, path, sha, desync in session.execute(
        select(GitFile.id, GitFile.current_path, GitFile.current_sha, GitFile.desynchronized_at)
        .where(GitFile.id.in_([r.id for r in rows])))}
    for row in rows:
        state = now_rows.get(row.id)
        if state is not None and state == (row.current_path, row.current_sha, None):
            result.marked_synced += 1
            continue
        if state is not None:
            session.execute(update(GitFile).where(GitFile.id == row.id)
                            .values(previous_path=row.current_path, previous_sha=row.current_sha)
                            .execution_options(synchronize_session=False))
        result.stale += 1


def _record_success(engine: Engine, website_id: str, result: SyncResult, when: datetime) -> None:
    with Session(engine) as session, session.begin():
        state = website_state(session, website_id)
        state.last_error = None
        state.last_error_at = None
        if result.pushed and result.commit:
            state.last_commit_sha = result.commit
            state.last_commit_at = when

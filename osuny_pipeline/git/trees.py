"""Trees built from the remote head's tree, rewriting only the directories on changed paths.

A change set maps a path to a blob id (write) or None (delete). Untouched entries are
copied by id, so every path the pipeline does not own (theme submodule, layouts,
workflows...) stays byte-identical; a directory emptied by deletes disappears, as git
has no empty directories.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

import pygit2
from pygit2.enums import FileMode, ObjectType

from osuny_pipeline.git.errors import SyncError

Changes = Mapping[str, pygit2.Oid | None]


class UnsafePath(SyncError):
    """A git_file path the sync refuses to write (absolute, `..`, `.git`, over a directory)."""


def check_path(path: str) -> None:
    parts = path.split("/")
    if not path or path.startswith("/") or any(p in ("", ".", "..", ".git") for p in parts) or "\\" in path:
        raise UnsafePath(f"unsafe path {path!r}")


def path_blob(repo: pygit2.Repository, tree: pygit2.Tree | None, path: str) -> str | None:
    """The blob sha at `path` in `tree`, None when absent (or not a file)."""
    if tree is None:
        return None
    try:
        entry = tree[path]
    except KeyError:
        return None
    return str(entry.id) if entry.type == ObjectType.BLOB else None


def build_tree(repo: pygit2.Repository, base: pygit2.Tree | None, changes: Changes) -> pygit2.Oid:
    """The id of `base` with `changes` applied (an empty tree if nothing is left)."""
    for path in changes:
        check_path(path)
    oid = _build(repo, base, changes, "")
    return oid if oid is not None else repo.TreeBuilder().write()


def _build(repo: pygit2.Repository, base: pygit2.Tree | None, changes: Changes, prefix: str) -> pygit2.Oid | None:
    builder = repo.TreeBuilder(base) if base is not None else repo.TreeBuilder()
    here: dict[str, pygit2.Oid | None] = {}
    below: dict[str, dict[str, pygit2.Oid | None]] = defaultdict(dict)
    for path, oid in changes.items():
        name, _, rest = path.partition("/")
        if rest:
            below[name][rest] = oid
        else:
            here[name] = oid

    for name, oid in here.items():
        existing = builder.get(name)
        if existing is not None and existing.type != ObjectType.BLOB:
            # Never replace a directory or a submodule with a file: it is not ours.
            raise UnsafePath(f"{prefix}{name} is a directory or submodule on the remote, not a file")
        if oid is None:
            if existing is not None:
                builder.remove(name)
        else:
            mode = _blob_mode(base, name) if existing is not None else FileMode.BLOB
            builder.insert(name, oid, mode)

    for name, sub_changes in below.items():
        existing = builder.get(name)
        subtree: pygit2.Tree | None = None
        if existing is not None:
            if existing.type != ObjectType.TREE:
                if all(v is None for v in sub_changes.values()):
                    continue  # deleting under a file: nothing of ours is there
                raise UnsafePath(f"{prefix}{name} is a file or submodule on the remote, not a directory")
            subtree = repo[existing.id]
        elif all(v is None for v in sub_changes.values()):
            continue  # deleting inside a directory that does not exist
        sub_oid = _build(repo, subtree, sub_changes, f"{prefix}{name}/")
        if sub_oid is None:
            if existing is not None:
                builder.remove(name)
        elif existing is None or sub_oid != existing.id:
            builder.insert(name, sub_oid, FileMode.TREE)

    if len(builder) == 0:
        return None
    return builder.write()


def _blob_mode(base: pygit2.Tree | None, name: str) -> int:
    """Keep an existing file's mode (an executable stays executable)."""
    if base is not None and name in base:
        mode = base[name].filemode
        if mode in (FileMode.BLOB, FileMode.BLOB_EXECUTABLE):
            return mode
    return FileMode.BLOB

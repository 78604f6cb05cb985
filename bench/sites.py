"""Synthetic generated sites for the sync figures: git_files rows whose paths and sizes
follow a real Osuny site (../shared/reference/osuny-site-sample/tree.tsv: 3,766 files,
median 2.5 KB, most under content/ and data/media/), scaled to any number of files.

The rows are written as generation would leave them (content stored by SHA, generated,
desynchronized), so the real `sync_website` pushes them. Rendering is measured apart
(`bench.generation`); here only the git side counts.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from sqlalchemy import Engine, insert, update
from sqlalchemy.orm import Session

from bench.common import TREE_TSV
from osuny_pipeline.cms.models import GitContent, GitFile, Website, utcnow
from osuny_pipeline.store import blob_sha

WEBSITE = "bench-site"
OWNED_ROOTS = ("content/", "data/")  # the pipeline's files; theme, assets, CI stay out
FILLER = ("Les formations associent enseignements théoriques, projets tutorés et stages en entreprise. "
          "Every year the institute welcomes more than two thousand students in its departments. ")


def reference_profile() -> list[tuple[str, int]]:
    """(path, size) of the reference site's own files, or a similar made-up profile
    when the reference sample is not beside the repository."""
    if TREE_TSV.exists():
        rows = []
        for line in TREE_TSV.read_text(encoding="utf-8").splitlines():
            mode, _sha, size, path = line.split("\t")
            if mode != "160000" and path.startswith(OWNED_ROOTS):
                rows.append((path, int(size)))
        return rows
    rng = random.Random(0)
    return [(f"content/fr/posts/{i // 200}/post-{i}.html" if i % 5 else f"data/media/{i % 256:02x}/m-{i}.yml",
             int(rng.lognormvariate(7.8, 0.6))) for i in range(3660)]


def scaled_path(path: str, copy: int) -> str:
    """The `copy`-th copy of a reference path: same folder, a suffixed name (copy 0 is the path)."""
    if copy == 0:
        return path
    p = PurePosixPath(path)
    return str(p.with_name(f"{p.stem}-{copy}{p.suffix}"))


def file_content(index: int, size: int, edit: int = 0) -> bytes:
    """Deterministic text of about `size` bytes, unique per (index, edit)."""
    head = f"---\ntitle: \"Fichier {index}\"\nedit: {edit}\nsummary: >-\n  "
    body = (FILLER * (size // len(FILLER) + 1))[: max(size - len(head) - 4, 10)]
    return (head + body + "\n---\n").encode("utf-8")


@dataclass
class SiteFiles:
    """The files of the synthetic site as the remote should hold them: index -> (path, content)."""

    files: dict[int, tuple[str, bytes]] = field(default_factory=dict)

    @classmethod
    def build(cls, count: int) -> SiteFiles:
        profile = reference_profile()
        site = cls()
        for i in range(count):
            path, size = profile[i % len(profile)]
            site.files[i] = (scaled_path(path, i // len(profile)), file_content(i, size))
        return site

    def total_bytes(self) -> int:
        return sum(len(c) for _, c in self.files.values())


@dataclass
class Edits:
    """One incremental round: files rewritten, deleted and renamed."""

    round: int
    modified: dict[int, bytes]
    deleted: list[int]
    renamed: dict[int, str]  # index -> new path

    @property
    def count(self) -> int:
        return len(self.modified) + len(self.deleted) + len(self.renamed)


def pick_edits(site: SiteFiles, round_: int, *, modified: int = 100, deleted: int = 5, renamed: int = 5) -> Edits:
    """Distinct files spread over the whole site (a random sample, fixed by the round)."""
    rng = random.Random(round_)
    chosen = rng.sample(sorted(site.files), modified + deleted + renamed)
    edits = Edits(round_, {}, chosen[modified:modified + deleted], {})
    for i in chosen[:modified]:
        path, content = site.files[i]
        edits.modified[i] = file_content(i, len(content), edit=round_ + 1)
    for i in chosen[modified + deleted:]:
        p = PurePosixPath(site.files[i][0])
        edits.renamed[i] = str(p.with_name(f"{p.stem}-renamed-{round_}{p.suffix}"))
    return edits


def apply_to_model(site: SiteFiles, edits: Edits) -> None:
    for i, content in edits.modified.items():
        site.files[i] = (site.files[i][0], content)
    for i in edits.deleted:
        del site.files[i]
    for i, path in edits.renamed.items():
        site.files[i] = (path, site.files[i][1])


# ---------------------------------------------------------------------- the database side


def _content_rows(contents: list[bytes]) -> dict[str, dict]:
    rows: dict[str, dict] = {}
    for data in contents:
        sha = blob_sha(data)
        rows.setdefault(sha, {"sha": sha, "size": len(data), "data": zlib.compress(data, 6)})
    return rows


def load_site(engine: Engine, site: SiteFiles, repository: Path, *, now: datetime | None = None) -> None:
    """The website row and one generated, desynchronized git_file per file."""
    now = now or utcnow()
    with Session(engine) as session, session.begin():
        session.add(Website(id=WEBSITE, name="Bench", url="https://bench.example.org", repository=str(repository),
                            branch="main", languages=["fr"], credentials=None))
        session.flush()
        items = sorted(site.files.items())
        for start in range(0, len(items), 2000):  # executemany in chunks: small RAM for 50k files
            chunk = items[start:start + 2000]
            session.execute(insert(GitContent), list(_content_rows([c for _, (_, c) in chunk]).values()))
            session.execute(insert(GitFile), [
                {"website_id": WEBSITE, "about_type": "post", "about_id": f"f{i}", "language": "fr",
                 "current_path": path, "current_sha": blob_sha(content), "generated_at": now,
                 "desynchronized_at": now} for i, (path, content) in chunk])


def store_edits(engine: Engine, site: SiteFiles, edits: Edits, *, now: datetime | None = None) -> None:
    """What generation writes for one round: new contents, deletions, moves, all desynchronized."""
    now = now or utcnow()
    with Session(engine) as session, session.begin():
        from osuny_pipeline.store import dialect_insert

        ins = dialect_insert(session)
        session.execute(ins(GitContent).on_conflict_do_nothing(),
                        list(_content_rows(list(edits.modified.values())).values()))
        for i, content in edits.modified.items():
            _update(session, i, current_sha=blob_sha(content), generated_at=now, desynchronized_at=now)
        for i in edits.deleted:
            _update(session, i, current_path=None, current_sha=None, generated_at=now, desynchronized_at=now)
        for i, path in edits.renamed.items():
            _update(session, i, current_path=path, generated_at=now, desynchronized_at=now)


def _update(session: Session, index: int, **values: object) -> None:
    session.execute(update(GitFile).where(GitFile.website_id == WEBSITE, GitFile.about_id == f"f{index}")
                    .values(**values))

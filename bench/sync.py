"""Figures 1 and 2: synchronization against plain git, at ~4k, 20k and 50k files.

1. Incremental sync (100 changed files, 5 deletes, 5 renames): `sync_website` (fetch, trees,
   commits, one push to a bare repository over file://) against `git add -A && git commit
   && git push` in a work tree holding the same files, pushing to its own bare copy.
2. First publication of the whole site: `sync_website` from empty (in a child process:
   its peak RSS is figure 6's) against `git fast-import` of the same files followed by the
   same push (the practical upper bound).

    python -m bench.sync [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from pathlib import Path

from bench.common import (
    Figure,
    Mode,
    Report,
    bare_repository,
    child_result,
    database,
    git,
    median,
    run_child,
    timed,
    workdir,
)
from bench.sites import WEBSITE, Edits, SiteFiles, apply_to_model, load_site, pick_edits, store_edits

GIT_ENV = {"GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.org",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.org"}


# ---------------------------------------------------------------------- ours


def first_publication_child(url: str, cache: str) -> None:
    """Run in a fresh process: the first sync of the whole site; prints time and peak RSS."""
    from osuny_pipeline.cms.db import engine_for
    from osuny_pipeline.git.sync import sync_website

    os.environ["OSUNY_GIT_CACHE"] = cache
    engine = engine_for(url)
    seconds, result = timed(lambda: sync_website(engine, WEBSITE))
    child_result(seconds=seconds, files=len(result.files), commits=result.batches, pushed=result.pushed)


def our_incremental(url: str) -> float:
    from osuny_pipeline.cms.db import engine_for
    from osuny_pipeline.git.sync import sync_website

    seconds, result = timed(lambda: sync_website(engine_for(url), WEBSITE))
    assert result.pushed and len(result.files) == 110, result
    return seconds


# ---------------------------------------------------------------------- the git baselines


def fast_import(site: SiteFiles, repo: Path) -> None:
    """The whole site as one commit through `git fast-import` (one stream, packed on the way)."""
    proc = subprocess.Popen(["git", "--git-dir", str(repo), "fast-import", "--quiet"], stdin=subprocess.PIPE)
    assert proc.stdin is not None
    write = proc.stdin.write
    items = sorted(site.files.items())
    for i, (_, content) in items:
        write(b"blob\nmark :%d\ndata %d\n%s\n" % (i + 1, len(content), content))
    message = b"First publication"
    write(b"commit refs/heads/main\ncommitter Bench <bench@example.org> %d +0000\ndata %d\n%s\n"
          % (int(time.time()), len(message), message))
    for i, (path, _) in items:
        write(b"M 100644 :%d %s\n" % (i + 1, path.encode()))
    write(b"\n")
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError("git fast-import failed")


def git_first_publication(site: SiteFiles, folder: Path, remote: Path) -> float:
    local = bare_repository(folder / "fast-import.git")

    def run() -> None:
        fast_import(site, local)
        git("--git-dir", str(local), "push", "-q", f"file://{remote}", "main")

    seconds, _ = timed(run)
    return seconds


def apply_to_worktree(tree: Path, site: SiteFiles, edits: Edits) -> None:
    for i, content in edits.modified.items():
        (tree / site.files[i][0]).write_bytes(content)
    for i in edits.deleted:
        (tree / site.files[i][0]).unlink()
    for i, path in edits.renamed.items():
        target = tree / path
        target.parent.mkdir(parents=True, exist_ok=True)
        (tree / site.files[i][0]).rename(target)


def git_incremental(tree: Path) -> float:
    env = {**os.environ, **GIT_ENV}
    start = time.perf_counter()
    subprocess.run("git add -A && git commit -q -m 'CMS update' && git push -q origin main", shell=True,
                   cwd=tree, env=env, check=True)
    return time.perf_counter() - start


# ---------------------------------------------------------------------- one size


def bench_size(mode: Mode, files: int, report: Report) -> dict[str, float]:
    with workdir(f"sync-{files}") as folder, database("sqlite", folder) as url:
        site = SiteFiles.build(files)
        ours_remote = bare_repository(folder / "ours.git")
        git_remote = bare_repository(folder / "git.git")
        from osuny_pipeline.cms.db import engine_for

        load_site(engine_for(url), site, ours_remote)
        cache = folder / "cache"
        os.environ["OSUNY_GIT_CACHE"] = str(cache)

        first = run_child("bench.sync", "--first-publication", url, str(cache))
        assert first["files"] == files and first["pushed"], first
        baseline_first = git_first_publication(site, folder, git_remote)
        report.add(Figure("2", f"first publication, {files:,} files", "s", first["seconds"], baseline_first,
                          "git fast-import + push", "at most 2x the baseline",
                          met=first["seconds"] <= 2 * baseline_first, size=files,
                          note=f"{first['commits']} chained commits, one push; peak RSS {first['peak_rss_mb']:.0f} MB"))

        tree = folder / "worktree"
        git("clone", "-q", f"file://{git_remote}", str(tree))
        git("status", "--porcelain", cwd=tree)  # a CMS keeps its work tree warm: index stat data fresh
        ours, theirs = [], []
        for round_ in range(mode.repeats):
            edits = pick_edits(site, round_)
            store_edits(engine_for(url), site, edits)
            ours.append(our_incremental(url))
            apply_to_worktree(tree, site, edits)
            theirs.append(git_incremental(tree))
            apply_to_model(site, edits)
        _check_same_tree(ours_remote, git_remote)
        return {"files": files, "ours": median(ours), "git": median(theirs), "first": first["seconds"],
                "first_git": baseline_first, "first_rss": first["peak_rss_mb"]}


def _check_same_tree(a: Path, b: Path) -> None:
    """Both sides must have ended with the very same files: else the comparison is void."""
    tree_a = git("--git-dir", str(a), "rev-parse", "main^{tree}").strip()
    tree_b = git("--git-dir", str(b), "rev-parse", "main^{tree}").strip()
    if tree_a != tree_b:
        raise AssertionError(f"ours and git ended on different trees: {tree_a} != {tree_b}")


def run(mode: Mode, report: Report, sizes: list[int] | None = None) -> list[dict[str, float]]:
    rows = [bench_size(mode, files, report) for files in sizes or mode.site_sizes]
    for row in rows:
        largest = row is rows[-1]
        report.add(Figure("1", f"incremental sync (100 changed, 5 deleted, 5 renamed), {row['files']:,} files",
                          "s", row["ours"], row["git"], "git add -A && commit && push",
                          "at least 10x faster at 50k files" if largest else "",
                          met=(row["git"] / row["ours"] >= 10) if largest else None, size=int(row["files"])))
    small, large = rows[0], rows[-1]
    growth, git_growth = large["ours"] / small["ours"], large["git"] / small["git"]
    report.add(Figure("1", f"incremental sync growth, {small['files']:,} -> {large['files']:,} files", "x",
                      growth, git_growth, "git's growth", "ours below 1.5x", met=growth < 1.5))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", type=lambda v: [int(x) for x in v.split(",")],
                        help="site sizes in files, comma-separated (default: the mode's)")
    parser.add_argument("--first-publication", nargs=2, metavar=("URL", "CACHE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.first_publication:
        first_publication_child(*args.first_publication)
        return 0
    run(Mode(args.quick), Report(), args.sizes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

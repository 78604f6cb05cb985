"""Blobs written as one pack (a first publication's many files): git reads every one, and a
sync of more files than the pack threshold pushes the same tree git would have."""

from __future__ import annotations

import subprocess
import zlib

import pygit2

from osuny_pipeline.git import sync as sync_module
from osuny_pipeline.git.mirror import write_blob_pack
from osuny_pipeline.store import blob_sha
from osuny_pipeline_tests.git.conftest import add_website, init_bare, render


def test_a_written_pack_holds_every_blob_and_passes_fsck(tmp_path):
    repo = pygit2.init_repository(str(tmp_path / "r.git"), bare=True)
    contents = [f"file {i}\n".encode() * (i % 7 + 1) for i in range(300)] + [b"", b"x" * 70_000]
    written = write_blob_pack(repo, [(blob_sha(d), len(d), zlib.compress(d)) for d in contents + contents[:5]])
    assert written == len(contents), "duplicates are written once"
    for data in contents:
        assert repo[blob_sha(data)].data == data
    subprocess.run(["git", "--git-dir", str(tmp_path / "r.git"), "fsck", "--strict"], check=True,
                   capture_output=True)


def test_sync_above_the_pack_threshold_pushes_every_file(engine, cache_dir, settings, tmp_path):
    remote = init_bare(tmp_path / "remote.git")
    add_website(engine, "demo", str(remote))
    count = sync_module.PACK_THRESHOLD + 50
    for i in range(count):
        render(engine, "demo", ("post", f"p{i}", "fr"), f"content/fr/posts/p{i}.html", f"post {i}\n")
    result = sync_module.sync_website(engine, "demo", settings=settings)
    assert result.pushed and result.marked_synced == count
    listed = subprocess.run(["git", "--git-dir", str(remote), "ls-tree", "-r", "main"], check=True,
                            capture_output=True, text=True).stdout.splitlines()
    assert len(listed) == count
    subprocess.run(["git", "--git-dir", str(remote), "fsck"], check=True, capture_output=True)

"""Hostile input end to end (issue 7.3): hostile values written by raw SQL into every
text field of posts and people -> identify -> generate -> sync -> the bare remote read
with `git`. Each value either comes back from the pushed file's YAML exactly, or its
object alone is rejected with a clear error on its git_file and in `status`; every
other file of the website still syncs.

The renderer-level table (63 values x every field of every owner kind) is
osuny_pipeline_tests/render/test_hostile_text.py; this one proves the whole path: the
database's own handling (PostgreSQL refuses NUL and invalid UTF-8, SQLite stores them),
the content store, the git blobs and the pushed files."""

from __future__ import annotations

import json

import pytest
import yaml
from sqlalchemy import select, text
from sqlalchemy.exc import DataError, StatementError
from sqlalchemy.orm import Session

from osuny_pipeline.cli import main as cli
from osuny_pipeline.cms.models import GitFile
from osuny_pipeline.git.trees import check_path
from osuny_pipeline_tests.reliability.conftest import Site, git_file_errors, pending_rows, remote_files
from osuny_pipeline_tests.render.test_yamlfmt import HOSTILE

PATH_TRAVERSAL = ["../../../etc/passwd", "..\\..\\windows\\system32", "/etc/passwd", "content/../../.git/config",
                  ".git", "a/../../b", "%2e%2e%2f%2e%2e%2f", "~/.ssh/id_rsa", "C:\\Windows", "\x00/etc/passwd"]
VALUES = [v for v in HOSTILE + PATH_TRAVERSAL if not any(0xD800 <= ord(c) <= 0xDFFF for c in v)]
POST_FIELDS = ("title", "summary", "text")  # localization columns -> the same keys in the front matter
PERSON_FIELDS = ("first_name", "last_name", "summary")


def storable(value: str, dialect: str) -> bool:
    return not (dialect == "postgresql" and "\x00" in value)


def hostile_site(site: Site, count: int) -> Site:
    """The sample site plus `count` posts, each with its own author, all published."""
    content = site.content
    for i in range(count):
        content["people"].append({"id": f"h{i}", "localizations": {"fr": {
            "published": True, "first_name": "F", "last_name": "L", "slug": f"person-{i}"}}})
        content["posts"].append({"id": f"h{i}", "website": site.website_id, "categories": [], "authors": [f"h{i}"],
                                 "localizations": {"fr": {"published": True, "title": f"Post {i}",
                                                          "slug": f"hostile-{i}",
                                                          "published_at": "2025-02-01T12:00:00+01:00"}}})
    site.load(content)
    site.cycle()
    return site


def write_raw(site: Site, about_type: str, about_id: str, column: str, value: str) -> None:
    with site.engine.begin() as conn:
        conn.execute(text(f"UPDATE localizations SET {column} = :v WHERE about_type = :t AND about_id = :i"),
                     {"v": value, "t": about_type, "i": about_id})


def front_matter(data: bytes) -> dict:
    body = data.decode("utf-8")
    assert body.startswith("---\n") and body.endswith("\n---\n"), body[:200]
    return yaml.load(body[4:-4], Loader=yaml.CSafeLoader)


def file_of(site: Site, about_type: str, about_id: str) -> str | None:
    with Session(site.engine) as session:
        return session.scalar(select(GitFile.current_path).where(
            GitFile.website_id == site.website_id, GitFile.about_type == about_type, GitFile.about_id == about_id))


def check_outcome(site: Site, about_type: str, about_id: str, expected: dict[str, str], files: dict[str, bytes],
                  errors: dict[str, str]) -> str:
    """'ok' when the pushed file holds every expected value, 'rejected' when the object has an error."""
    key = f"{about_type}:{about_id}:fr"
    if key in errors:
        assert errors[key].strip() and "\n" not in errors[key].strip()[:200], errors[key]
        return "rejected"
    path = file_of(site, about_type, about_id)
    assert path is not None and path in files, f"{key}: no error and no file"
    document = front_matter(files[path])
    for field, value in expected.items():
        assert document[field] == value, f"{key}.{field}: {document[field]!r:.80} != {value!r:.80}"
    return "ok"


def test_thirty_plus_hostile_values_per_text_field_end_to_end(site: Site, capsys):
    dialect = site.engine.dialect.name
    values = [v for v in VALUES if storable(v, dialect)]
    assert len(values) >= 30
    hostile_site(site, len(values))
    n = len(values)
    expected: dict[tuple[str, str], dict[str, str]] = {}
    for i in range(n):  # every field gets every value once, on different objects
        post = {f: values[(i + k * 11) % n] for k, f in enumerate(POST_FIELDS)}
        person = {f: values[(i + 5 + k * 13) % n] for k, f in enumerate(PERSON_FIELDS)}
        for field, value in post.items():
            write_raw(site, "post", f"h{i}", field, value)
        for field, value in person.items():
            write_raw(site, "person", f"h{i}", field, value)
        expected["post", f"h{i}"] = {f: post[f] for f in ("title", "summary")}  # `text` is HTML, rendered as is
        expected["person", f"h{i}"] = person
    site.cycle()

    files = remote_files(site.remote)
    errors = git_file_errors(site.engine, site.website_id)
    outcomes = {key: check_outcome(site, *key, fields, files, errors) for key, fields in expected.items()}
    rejected = sorted(k for k, v in outcomes.items() if v == "rejected")
    assert not rejected, f"hostile text is data: it should render, not be rejected: {rejected}"
    assert pending_rows(site.engine, site.website_id) == 0
    for path in files:
        check_path(path)
        if path.endswith(".html"):
            front_matter(files[path])  # every pushed file parses
    if errors:  # a rejected object is visible in `status`, with its reason
        capsys.readouterr()
        assert cli(["status", "--website", site.website_id, "--json"]) == 0
        failures = json.loads(capsys.readouterr().out)
        failures = failures[0] if isinstance(failures, list) else failures
        assert failures["failed"] == len(errors)


def test_hostile_slugs_are_contained_or_rejected_one_object_at_a_time(site: Site, capsys):
    values = [v for v in VALUES if storable(v, site.engine.dialect.name)][:40]
    hostile_site(site, len(values))
    for i, value in enumerate(values):
        write_raw(site, "post", f"h{i}", "slug", value)
    site.cycle()
    files = remote_files(site.remote)
    errors = git_file_errors(site.engine, site.website_id)
    for path in files:
        check_path(path)  # nothing outside the tree, no .git, no backslash
        assert path.startswith(("content/", "data/", "config/")), path
    for i in range(len(values)):
        key = f"post:h{i}:fr"
        path = file_of(site, "post", f"h{i}")
        assert key in errors or (path in files and path.startswith("content/fr/posts/")), (values[i][:40], path)
    assert "content/fr/_index.html" in files and "data/menus/fr/primary.yml" in files  # the others synced
    assert pending_rows(site.engine, site.website_id) == 0


def test_invalid_utf8_written_by_raw_sql(site: Site):
    """SQLite keeps the bytes: the object renders (U+FFFD for the bad bytes) and the site
    syncs. PostgreSQL refuses them at the database: nothing reaches the pipeline."""
    hostile_site(site, 2)
    if site.engine.dialect.name == "postgresql":
        with pytest.raises((DataError, StatementError)):
            with site.engine.begin() as conn:
                conn.execute(text("UPDATE localizations SET title = convert_from('\\x48e9ff'::bytea, 'UTF8') "
                                  "WHERE about_id = 'h0'"))
        with pytest.raises((DataError, StatementError)):
            write_raw(site, "post", "h1", "title", "NUL\x00inside")
        return
    with site.engine.begin() as conn:
        conn.execute(text("UPDATE localizations SET title = CAST(x'48e9ff00c3' AS TEXT), "
                          "summary = CAST(x'ff' AS TEXT) WHERE about_type = 'post' AND about_id = 'h0'"))
    write_raw(site, "post", "h1", "title", "still fine")
    site.cycle()
    files = remote_files(site.remote)
    h0 = front_matter(files[file_of(site, "post", "h0")])
    assert h0["title"] == "H\ufffd\ufffd\x00\ufffd" and h0["summary"] == "\ufffd"
    assert front_matter(files[file_of(site, "post", "h1")])["title"] == "still fine"
    assert not git_file_errors(site.engine, site.website_id)
    assert pending_rows(site.engine, site.website_id) == 0

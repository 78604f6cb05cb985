"""Slugs and the one path check."""

from __future__ import annotations

import pytest

from osuny_pipeline.render.paths import (
    UnsafePathError,
    assert_safe_path,
    first_slug,
    is_valid_language,
    media_file_id,
    parameterize,
)


@pytest.mark.parametrize(("text", "slug"), [
    ("Colloque « Les vacances et l’animation »", "colloque-les-vacances-et-lanimation"),
    ("Présentation de l'IUT", "presentation-de-l-iut"),
    ("  Été 2025 !! ", "ete-2025"),
    ("../../etc/passwd", "etc-passwd"),
    (".git", "git"),
    ("a\\b\x00c", "a-b-c"),
    ("日本語", ""),
    ("", ""),
    (None, ""),
    ("Ça va ? Oui_non", "ca-va-oui-non"),
])
def test_parameterize(text, slug):
    assert parameterize(text) == slug


def test_parameterize_is_ascii_lowercase_and_capped():
    slug = parameterize("Ab-" * 200)
    assert len(slug) <= 100 and not slug.endswith("-") and slug == slug.lower()
    assert set(slug) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")


def test_first_slug_falls_back_in_order():
    assert first_slug("", "Un titre", "id-1") == "un-titre"
    assert first_slug("!!", "日本", "Id 1") == "id-1"
    assert first_slug("", None, "") == ""


def test_media_ids_keep_letters_digits_and_dashes():
    assert media_file_id("7c1e3f0a-5B7D-4c1e") == "7c1e3f0a-5B7D-4c1e"
    assert media_file_id("../../.git/x") == "git-x"
    assert media_file_id("//") == ""


@pytest.mark.parametrize("path", [
    "content/fr/_index.html", "data/media/7c/7c1e.yml", "config/_default/languages.yaml",
    "content/fr/pages/a/b/_index.html",
])
def test_safe_paths_pass(path):
    assert assert_safe_path(path) == path


@pytest.mark.parametrize("path", [
    "", "/content/fr/x.html", "static/robots.txt", ".github/workflows/x.yml", "content/../x", "content/fr/../../x",
    "content//x.html", "content/fr/", "content/.git/config", "data/.GIT/x", "content\\fr\\x.html",
    "content/fr/x\x00.html", "content/./x.html", "contents/x.html", "content/fr/\nx.html", "..",
])
def test_unsafe_paths_are_refused(path):
    with pytest.raises(UnsafePathError):
        assert_safe_path(path)


@pytest.mark.parametrize(("code", "ok"), [("fr", True), ("en", True), ("pt-BR", True), ("zh_Hant", True),
                                          ("../x", False), ("", False), ("f", False), ("fr/x", False)])
def test_language_codes(code, ok):
    assert is_valid_language(code) is ok

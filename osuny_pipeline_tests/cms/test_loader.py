"""The fixture loader on both databases: create, update, idempotence, delete, rejection."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from osuny_pipeline.cli import main
from osuny_pipeline.cms.loader import load_fixture, load_fixture_file
from osuny_pipeline.cms.models import (
    CONTENT_TABLES,
    Block,
    Category,
    Localization,
    MenuItem,
    Page,
    Person,
    Post,
    PostAuthor,
    PostCategory,
    Website,
)
from osuny_pipeline.errors import FixtureError
from osuny_pipeline_tests.cms.sample import MEDIA_ID, small_site


def change_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT COUNT(*) FROM change_log")).scalar_one()


def changes_since(engine: Engine, since: int) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT table_name, row_id, operation FROM change_log ORDER BY id")).all()
    return [tuple(r) for r in rows[since:]]


def snapshot(engine: Engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        return {t: sorted(repr(tuple(r)) for r in conn.execute(text(f"SELECT * FROM {t}")))
                for t in (*CONTENT_TABLES, "change_log")}


def loc(session: Session, about_type: str, about_id: str, language: str = "fr") -> Localization:
    return session.scalars(select(Localization).filter_by(
        about_type=about_type, about_id=about_id, language=language)).one()


@pytest.fixture
def loaded(engine: Engine, tmp_path: Path) -> dict:
    fixture = small_site(str(tmp_path / "remote.git"))
    load_fixture(engine, fixture)
    return fixture


def test_create_maps_every_field(engine, loaded):
    with Session(engine) as s:
        website = s.get(Website, "demo")
        assert (website.branch, website.languages, website.time_zone, website.credentials) == \
            ("main", ["fr", "en"], "Europe/Paris", "OSUNY_TOKEN_DEMO")
        assert s.get(Person, "ada").image_id == MEDIA_ID
        ada = loc(s, "person", "ada")
        assert (ada.first_name, ada.last_name, ada.text, ada.summary, ada.published) == \
            ("Ada", "Lovelace", "<p>Pionnière.</p>", "Mathématicienne", True)
        assert loc(s, "organization", "acme").title == "ACME"
        assert loc(s, "category", "news", "en").title == "News"
        assert s.get(Category, "research").parent_id == "news"
        assert s.get(Page, "international").parent_id == "formation"
        p1 = loc(s, "post", "p1")
        assert p1.title == "Colloque « Les vacances »"
        assert p1.published_at == datetime(2025, 1, 7, 11, 0, tzinfo=UTC)
        assert p1.published_at.tzinfo is not None
        assert [(b.id, b.position, b.template, b.published) for b in p1.blocks] == \
            [("p1-b1", 0, "chapter", True), ("p1-b2", 1, "image", True)]
        assert p1.blocks[1].data == {"image": MEDIA_ID, "alt": "Photo"}
        assert s.get(Post, "p1").image_id == MEDIA_ID
        authors = s.scalars(select(PostAuthor).filter_by(post_id="p1").order_by(PostAuthor.position)).all()
        assert [a.person_id for a in authors] == ["ada", "alan"]
        cats = s.scalars(select(PostCategory).filter_by(post_id="p1").order_by(PostCategory.position)).all()
        assert [c.category_id for c in cats] == ["news", "research"]
        items = s.scalars(select(MenuItem).order_by(MenuItem.id)).all()
        tree = {i.id: i for i in items}
        assert [(i.title, i.target_type, i.target_id, i.url, i.position) for i in items if i.parent_id is None] == [
            ("Accueil", "page", "home", None, 0), ("Formation", "page", "formation", None, 1),
            ("Osuny", None, None, "https://www.osuny.org", 2)]
        child = next(i for i in items if i.parent_id is not None)
        assert (child.title, tree[child.parent_id].title) == ("International", "Formation")


def test_second_load_writes_nothing(engine, loaded):
    before = change_count(engine)
    summary = load_fixture(engine, copy.deepcopy(loaded))
    assert change_count(engine) == before
    assert not summary.written
    assert summary.of("posts").unchanged == 2 and summary.of("menus").unchanged == 1


def test_update_writes_only_what_changed(engine, loaded):
    fixture = copy.deepcopy(loaded)
    before = change_count(engine)
    p1 = fixture["posts"][0]
    p1["localizations"]["fr"]["title"] = "Colloque modifié"
    p1["localizations"]["fr"]["blocks"].reverse()
    p1["authors"] = ["alan", "ada"]
    p1["categories"] = ["news"]
    fixture["pages"][0]["localizations"]["fr"]["blocks"].pop()  # home-b3
    fixture["categories"][0]["localizations"].pop("en")
    summary = load_fixture(engine, fixture)
    changes = changes_since(engine, before)
    assert sorted(c[0] + ":" + c[2] for c in changes) == sorted([
        "localizations:UPDATE",  # p1's title
        "blocks:UPDATE", "blocks:UPDATE",  # p1's blocks swapped
        "post_authors:UPDATE", "post_authors:UPDATE",
        "post_categories:DELETE",
        "blocks:DELETE",  # home-b3
        "localizations:DELETE",  # news in English
    ]), changes
    assert (summary.of("posts").updated, summary.of("posts").unchanged) == (1, 1)
    assert summary.of("people").unchanged == 2
    with Session(engine) as s:
        assert [b.id for b in loc(s, "post", "p1").blocks] == ["p1-b2", "p1-b1"]
        assert s.get(Block, "home-b3") is None


def test_menu_items_are_replaced_only_when_the_tree_differs(engine, loaded):
    fixture = copy.deepcopy(loaded)
    fixture["menus"][0]["items"][1]["children"].append({"title": "Stages", "url": "https://stages.example.org"})
    before = change_count(engine)
    load_fixture(engine, fixture)
    ops = [c[2] for c in changes_since(engine, before) if c[0] == "menu_items"]
    assert ops.count("DELETE") == 4 and ops.count("INSERT") == 5
    before = change_count(engine)
    load_fixture(engine, fixture)
    assert change_count(engine) == before


def test_delete_removes_the_object_and_its_children(engine, loaded):
    before = change_count(engine)
    summary = load_fixture(engine, {"posts": [{"id": "p1", "deleted": True}], "people": [{"id": "ghost",
                                                                                          "deleted": True}]})
    assert summary.of("posts").deleted == 1 and summary.of("people").deleted == 0
    tables = sorted({c[0] for c in changes_since(engine, before)})
    assert tables == ["blocks", "localizations", "post_authors", "post_categories", "posts"]
    with Session(engine) as s:
        assert s.get(Post, "p1") is None and s.get(Block, "p1-b1") is None
    before = change_count(engine)
    load_fixture(engine, {"posts": [{"id": "p1", "deleted": True}]})  # already gone: nothing to do
    assert change_count(engine) == before


def test_deleting_a_website_deletes_its_direct_objects(engine, loaded):
    summary = load_fixture(engine, {"websites": [{"id": "demo", "deleted": True}]})
    assert summary.of("pages").deleted == 3 and summary.of("posts").deleted == 2
    with engine.connect() as conn:
        for table in ("websites", "pages", "posts", "categories", "menus", "menu_items", "blocks",
                      "post_authors", "page_categories"):
            assert conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one() == 0, table
        # Indirect objects are not the website's: they stay.
        assert conn.execute(text("SELECT COUNT(*) FROM people")).scalar_one() == 2
        logged = {r[0] for r in conn.execute(text("SELECT DISTINCT table_name FROM change_log "
                                                  "WHERE operation = 'DELETE'"))}
    assert {"pages", "posts", "localizations", "blocks", "menu_items", "menus", "websites"} <= logged


def _bad(mutate):
    def build(fixture: dict) -> dict:
        fixture = copy.deepcopy(fixture)
        # Each bad file also carries a valid change: it must not be written either.
        fixture["posts"][1]["localizations"]["fr"]["title"] = "Rentrée modifiée"
        mutate(fixture)
        return fixture
    return build


def _set(path: str, value):
    def mutate(fixture: dict) -> None:
        keys = path.split("/")
        node = fixture
        for key in keys[:-1]:
            node = node[int(key)] if isinstance(node, list) else node[key]
        last = keys[-1]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return mutate


def _pop(path: str):
    def mutate(fixture: dict) -> None:
        parent, key = path.rsplit("/", 1)
        node = fixture
        for k in parent.split("/"):
            node = node[int(k)] if isinstance(node, list) else node[k]
        node.pop(key)
    return mutate


def _only(**lists):
    def mutate(fixture: dict) -> None:
        fixture.clear()
        fixture.update(lists)
    return mutate


INVALID = [
    ("unknown top-level key", lambda f: f.update(events=[]), "unknown top-level key 'events'"),
    ("missing required field", _pop("websites/0/name"), "websites[0] (id 'demo'): name: missing required field"),
    ("unknown field", _set("pages/0/colour", "red"), "pages[0] (id 'home'): colour: unknown field"),
    ("string for a list", _set("posts/0/categories", "news"), "posts[0] (id 'p1'): categories: expected a list"),
    ("bad date", _set("posts/0/localizations/fr/published_at", "2025-13-45T00:00:00+01:00"),
     "posts[0] (id 'p1'): localizations.fr.published_at: not an ISO 8601"),
    ("date without offset", _set("posts/0/localizations/fr/published_at", "2025-01-07T12:00:00"),
     "posts[0] (id 'p1'): localizations.fr.published_at: date-time without an offset"),
    ("integer for a string", _set("pages/0/localizations/fr/title", 2025),
     "pages[0] (id 'home'): localizations.fr.title: expected a string"),
    ("unknown block template", _set("pages/0/localizations/fr/blocks/0/template", "carousel"),
     "pages[0] (id 'home'): localizations.fr.blocks[0] (id 'home-b1'): template: unknown block template"),
    ("unknown category kind", _set("categories/0/kind", "events"),
     "categories[0] (id 'news'): kind: unknown category kind 'events'"),
    ("invalid website id", lambda f: f["websites"].append({**f["websites"][0], "id": "Demo Site"}),
     "websites[1] (id 'Demo Site'): id: invalid website id"),
    ("language not of the website", _set("pages/2/localizations/de", {"title": "International"}),
     "pages[2] (id 'international'): localizations.de: language 'de' is not a language of website 'demo'"),
    ("menu language not of the website", _set("menus/0/language", "es"),
     "menus[0] (id 'primary-fr'): language: language 'es' is not a language"),
    ("dangling author", _set("posts/0/authors", ["ada", "ghost"]),
     "posts[0] (id 'p1'): authors: unknown person 'ghost'"),
    ("dangling category", _set("posts/0/categories", ["nope"]), "posts[0] (id 'p1'): categories: unknown category"),
    ("category of the wrong kind", _set("posts/0/categories", ["programs"]),
     "posts[0] (id 'p1'): categories: category 'programs' is of kind 'pages', expected 'posts'"),
    ("dangling image", _set("posts/1/image", "no-such-media"), "posts[1] (id 'p2'): image: unknown media"),
    ("dangling logo", _set("organizations/0/logo", "no-such-media"),
     "organizations[0] (id 'acme'): logo: unknown media 'no-such-media'"),
    ("dangling parent", _set("pages/1/parent", "nowhere"), "pages[1] (id 'formation'): parent: unknown page"),
    ("parent of another kind", _set("categories/1/parent", "programs"),
     "categories[1] (id 'research'): parent: category 'programs' is of kind 'pages'"),
    ("dangling block list", _set("pages/0/localizations/fr/blocks/2/data/persons", ["ghost"]),
     "blocks[2] (id 'home-b3'): data.persons: unknown person 'ghost'"),
    ("dangling block category", _set("pages/0/localizations/fr/blocks/1/data/category", "sports"),
     "blocks[1] (id 'home-b2'): data.category: unknown category 'sports'"),
    ("dangling menu target", _set("menus/0/items/1/children/0/target", {"page": "nope"}),
     "menus[0] (id 'primary-fr'): items[1].children[0].target.page: unknown page 'nope'"),
    ("duplicate id", lambda f: f["posts"].append(copy.deepcopy(f["posts"][0])), "posts[2] (id 'p1'): id: duplicate"),
    ("reference to an object this file deletes", _set("people/0", {"id": "ada", "deleted": True}),
     "unknown person 'ada' (deleted by this file)"),
    ("a cycle of parents", _set("pages/0/parent", "international"), "would be its own ancestor"),
    ("deleting a page that keeps children", _only(pages=[{"id": "formation", "deleted": True}]),
     "pages[0] (id 'formation'): deleted: page 'international' still has it as parent"),
    ("credentials that look like a secret", _set("websites/0/credentials", "ghp_abc:secret-value"),
     "websites[0] (id 'demo'): credentials: expected the NAME"),
    ("bad time zone", _set("websites/0/time_zone", "Mars/Olympus"), "time_zone: unknown time zone"),
]


def test_invalid_files_are_rejected_whole(engine, loaded):
    before = snapshot(engine)
    for name, mutate, expected in INVALID:
        with pytest.raises(FixtureError) as caught:
            load_fixture(engine, _bad(mutate)(loaded))
        assert expected in str(caught.value), f"{name}: {caught.value}"
        assert snapshot(engine) == before, f"{name}: a rejected file wrote something"


def test_a_rejected_credentials_value_is_not_echoed(engine, loaded):
    with pytest.raises(FixtureError) as caught:
        load_fixture(engine, _bad(_set("websites/0/credentials", "ghp_abc:secret-value"))(loaded))
    assert "secret-value" not in str(caught.value)


def test_text_is_stored_exactly(engine, tmp_path):
    odd = "Ünïcødé « guillemets » l’apostrophe\u00a0nbsp 漢字 עברית 🎓\n  indented\nline: with colon # no comment\t"
    fixture = small_site(str(tmp_path / "remote.git"))
    fixture["posts"][0]["localizations"]["fr"].update(title=odd, summary="  leading and trailing  \n\n")
    fixture["posts"][0]["localizations"]["fr"]["blocks"][0]["data"]["text"] = odd
    path = tmp_path / "unicode.yaml"
    path.write_text(yaml.safe_dump(fixture, allow_unicode=True, sort_keys=False), encoding="utf-8")
    load_fixture_file(engine, path)
    with Session(engine) as s:
        p1 = loc(s, "post", "p1")
        assert p1.title == odd
        assert p1.summary == "  leading and trailing  \n\n"
        assert s.get(Block, "p1-b1").data["text"] == odd
    before = change_count(engine)
    load_fixture_file(engine, path)
    assert change_count(engine) == before


def test_repository_paths_and_urls(engine, tmp_path):
    folder = tmp_path / "fixtures" / "site"
    folder.mkdir(parents=True)
    fixture = small_site("../remotes/demo.git")
    fixture["websites"].append({**fixture["websites"][0], "id": "other", "repository": "git@github.com:org/site.git",
                                "credentials": "file:keys/deploy_key"})
    fixture["websites"].append({**fixture["websites"][0], "id": "third", "repository": "https://gitlab.example.org/x.git"})
    path = folder / "fixture.yaml"
    path.write_text(yaml.safe_dump(fixture, allow_unicode=True), encoding="utf-8")
    load_fixture_file(engine, path)
    with Session(engine) as s:
        assert s.get(Website, "demo").repository == str(tmp_path / "fixtures" / "remotes" / "demo.git")
        assert s.get(Website, "other").repository == "git@github.com:org/site.git"
        assert s.get(Website, "other").credentials == f"file:{folder / 'keys' / 'deploy_key'}"
        assert s.get(Website, "third").repository == "https://gitlab.example.org/x.git"


def test_load_into_a_session_leaves_the_commit_to_the_caller(engine, tmp_path):
    with Session(engine) as s:
        load_fixture(s, small_site(str(tmp_path / "r.git")))
        s.rollback()
    assert change_count(engine) == 0


def test_cli_load_prints_a_summary_and_rejects_bad_files(cli_env, tmp_path, capsys):
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(small_site(), allow_unicode=True), encoding="utf-8")
    assert main(["load", str(good)]) == 0
    out = capsys.readouterr().out
    assert "posts: 2 created, 0 updated, 0 deleted, 0 unchanged" in out
    assert main(["load", str(good)]) == 0
    assert "posts: 0 created, 0 updated, 0 deleted, 2 unchanged" in capsys.readouterr().out
    bad_fixture = small_site()
    bad_fixture["posts"][0]["authors"] = ["ghost"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(bad_fixture, allow_unicode=True), encoding="utf-8")
    assert main(["load", str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "posts[0] (id 'p1'): authors: unknown person 'ghost'" in err and "bad.yaml" in err
    (tmp_path / "broken.yaml").write_text("posts: [\n", encoding="utf-8")
    assert main(["load", str(tmp_path / "broken.yaml")]) == 1
    assert "invalid YAML" in capsys.readouterr().err


def test_cli_load_on_an_unmigrated_database_says_to_upgrade(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OSUNY_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    path = tmp_path / "f.yaml"
    path.write_text(yaml.safe_dump(small_site()), encoding="utf-8")
    assert main(["load", str(path)]) == 1
    assert "db upgrade" in capsys.readouterr().err

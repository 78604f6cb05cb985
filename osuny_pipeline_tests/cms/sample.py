"""A small website in the fixture format (the acceptance suite's shape), for loader tests."""

from __future__ import annotations

MEDIA_ID = "7c1e3f0a-5b7d-4c1e-9f00-1a2b3c4d5e6f"


def _fr(**fields):
    return {"published": True, **fields}


def small_site(repository: str = "./remote.git") -> dict:
    return {
        "websites": [{"id": "demo", "name": "IUT Démo", "url": "https://www.example.org",
                      "repository": repository, "languages": ["fr", "en"],
                      "credentials": "OSUNY_TOKEN_DEMO"}],
        "media": [{"id": MEDIA_ID, "name": "photo.jpg", "content_type": "image/jpeg", "size": 134249,
                   "width": 640, "height": 480, "url": "https://cdn.example.org/photo.jpg"}],
        "people": [
            {"id": "ada", "image": MEDIA_ID, "localizations": {"fr": _fr(
                first_name="Ada", last_name="Lovelace", slug="ada-lovelace", summary="Mathématicienne",
                biography="<p>Pionnière.</p>")}},
            {"id": "alan", "localizations": {"fr": _fr(first_name="Alan", last_name="Turing", slug="alan-turing")}},
        ],
        "organizations": [{"id": "acme", "logo": None, "localizations": {"fr": _fr(
            name="ACME", slug="acme", summary="Partenaire", text="<p>ACME</p>")}}],
        "categories": [
            {"id": "news", "website": "demo", "kind": "posts", "parent": None, "position": 0,
             "localizations": {"fr": _fr(name="Actualités", slug="actualites"),
                               "en": _fr(name="News", slug="news")}},
            {"id": "research", "website": "demo", "kind": "posts", "parent": "news", "position": 1,
             "localizations": {"fr": _fr(name="Recherche", slug="recherche")}},
            {"id": "programs", "website": "demo", "kind": "pages", "localizations": {}},
        ],
        "pages": [
            {"id": "home", "website": "demo", "parent": None, "position": 0, "categories": [],
             "localizations": {"fr": _fr(title="Accueil", slug="", summary="Bienvenue", blocks=[
                 {"id": "home-b1", "template": "chapter", "data": {"text": "<p>Bonjour</p>"}},
                 {"id": "home-b2", "template": "posts", "data": {"mode": "category", "category": "news",
                                                                  "quantity": 3}},
                 {"id": "home-b3", "template": "persons", "data": {"persons": ["ada"]}},
             ])}},
            {"id": "formation", "website": "demo", "parent": "home", "position": 1, "categories": ["programs"],
             "localizations": {"fr": _fr(title="Formation", slug="formation", blocks=[
                 {"id": "formation-b1", "template": "pages", "data": {"mode": "children", "page": "formation"}},
             ])}},
            {"id": "international", "website": "demo", "parent": "formation", "position": 0,
             "localizations": {"fr": _fr(title="International", slug="international")}},
        ],
        "posts": [
            {"id": "p1", "website": "demo", "categories": ["news", "research"], "authors": ["ada", "alan"],
             "image": MEDIA_ID, "localizations": {"fr": _fr(
                 title="Colloque « Les vacances »", slug="colloque-les-vacances", summary="Un colloque",
                 published_at="2025-01-07T12:00:00+01:00", blocks=[
                     {"id": "p1-b1", "template": "chapter", "data": {"text": "<p>Le colloque aura lieu.</p>"}},
                     {"id": "p1-b2", "template": "image", "data": {"image": MEDIA_ID, "alt": "Photo"}},
                 ])}},
            {"id": "p2", "website": "demo", "categories": ["news"], "authors": ["alan"],
             "localizations": {"fr": _fr(title="Rentrée 2025", slug="rentree-2025",
                                         published_at="2025-09-01T12:00:00+02:00")}},
        ],
        "menus": [
            {"id": "primary-fr", "website": "demo", "identifier": "primary", "language": "fr", "items": [
                {"title": "Accueil", "target": {"page": "home"}},
                {"title": "Formation", "target": {"page": "formation"},
                 "children": [{"title": "International", "target": {"page": "international"}}]},
                {"title": "Osuny", "url": "https://www.osuny.org"},
            ]},
        ],
    }

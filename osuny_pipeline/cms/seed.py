"""Deterministic generators of fixtures (../shared/FIXTURES.md): large seeds and the demo.

* `build_fixture(websites, scale, seed)`: websites `site-001`, ... sized like a real Osuny
  site at scale 1.0 (the reference sample has ~3,700 files, mostly content/ and
  data/media/): per website ~1,450 media, ~950 posts, ~320 pages on 4 levels, ~640
  people, ~260 organizations, 30 categories, a primary and a legal menu per language,
  blocks of every template (list blocks included). Scale 5 gives ~18k objects, 12 ~44k.
* `build_demo_fixture()`: the one-website demo (`fixtures/demo.yaml`, French and English).

Same arguments, same bytes: the only randomness is `random.Random(seed)`, nothing
iterates over a set, and `dump_fixture` emits YAML with a fixed layout.

Regenerate the committed demo after changing this module:

    python -m osuny_pipeline.cms.seed --write-demo
"""

from __future__ import annotations

import argparse
import json
import random
import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

DEMO_PATH = Path(__file__).resolve().parent.parent / "fixtures" / "demo.yaml"
# Relative to fixtures/: the repository root's .osuny/remotes/demo.git, which is where
# `prepare-demo` puts the bare remote when run from the root (it overrides this anyway).
DEMO_REPOSITORY_PLACEHOLDER = "../../.osuny/remotes/demo.git"

#: Objects per website at scale 1.0 (a real Osuny site's profile).
SCALE_1 = {"media": 1450, "posts": 950, "pages": 320, "people": 640, "organizations": 260}
CATEGORY_KIND_COUNTS = {"posts": 20, "pages": 6, "persons": 2, "organizations": 2}
PARIS = ZoneInfo("Europe/Paris")

# ----------------------------------------------------------------------------- text pools
# Pairs (fr, en) in the style of the reference sample: a university institute's site.

SENTENCES = [
    ("L’IUT accueille chaque année plus de deux mille étudiantes et étudiants dans ses sept départements.",
     "Every year the institute welcomes more than two thousand students in its seven departments."),
    ("Les formations associent enseignements théoriques, projets tutorés et stages en entreprise.",
     "Programmes combine lectures, supervised projects and internships in companies."),
    ("Le bachelor universitaire de technologie se prépare en trois ans, en formation initiale ou en alternance.",
     "The bachelor of technology takes three years, full-time or as a work-study programme."),
    ("Les équipes pédagogiques accompagnent chaque étudiant dans la construction de son projet professionnel.",
     "Teaching teams support each student in building a professional project."),
    ("Le service des relations internationales aide les étudiants à préparer leur mobilité.",
     "The international office helps students prepare their exchange."),
    ("Des conventions lient l’institut à plus de soixante universités partenaires en Europe et au-delà.",
     "Agreements link the institute with more than sixty partner universities in Europe and beyond."),
    ("La bibliothèque universitaire propose des espaces de travail en groupe et des ressources numériques.",
     "The university library offers group workspaces and digital resources."),
    ("Les candidatures se font sur la plateforme Parcoursup entre janvier et mars.",
     "Applications are made on the Parcoursup platform between January and March."),
    ("Les enseignants-chercheurs de l’institut sont rattachés à des laboratoires reconnus.",
     "The institute's lecturers belong to recognised research laboratories."),
    ("Le conseil d’institut se réunit plusieurs fois par an pour voter les orientations budgétaires.",
     "The institute council meets several times a year to vote on budget guidelines."),
    ("Une semaine d’intégration permet aux nouveaux étudiants de découvrir le campus et ses services.",
     "An induction week lets new students discover the campus and its services."),
    ("Le service de formation continue accompagne les salariés dans leur reprise d’études.",
     "The continuing education office supports employees returning to study."),
    ("La validation des acquis de l’expérience permet d’obtenir tout ou partie d’un diplôme.",
     "Accreditation of prior learning can lead to all or part of a degree."),
    ("Les associations étudiantes animent la vie du campus tout au long de l’année.",
     "Student societies bring campus life alive throughout the year."),
    ("Un dispositif d’accueil spécifique existe pour les étudiants en situation de handicap.",
     "A dedicated scheme welcomes students with disabilities."),
    ("Les entreprises partenaires participent aux jurys, aux conférences et au financement des projets.",
     "Partner companies take part in juries, talks and project funding."),
    ("La taxe d’apprentissage contribue directement à l’équipement des salles de travaux pratiques.",
     "The apprenticeship tax directly funds equipment for practical rooms."),
    ("Le colloque réunira chercheurs, professionnels et étudiants autour de tables rondes et d’ateliers.",
     "The conference will bring together researchers, professionals and students for panels and workshops."),
    ("L’entrée est libre dans la limite des places disponibles, sur inscription préalable.",
     "Admission is free subject to availability, on prior registration."),
    ("Les soutenances se dérouleront dans l’amphithéâtre principal en présence des tuteurs.",
     "The defences will take place in the main lecture hall with the supervisors."),
    ("Les résultats de l’élection seront affichés dans le hall et publiés sur l’intranet.",
     "Election results will be posted in the hall and published on the intranet."),
    ("Cette nouvelle installation permet aux étudiants de s’exercer dans des conditions professionnelles.",
     "This new facility lets students practise in professional conditions."),
    ("Le projet a été mené par une équipe de quatre étudiants de deuxième année.",
     "The project was led by a team of four second-year students."),
    ("Les inscriptions administratives se font en ligne avant le rendez-vous au service de scolarité.",
     "Administrative enrolment is done online before meeting the registrar's office."),
    ("Un espace numérique de travail donne accès aux emplois du temps, aux notes et à la messagerie.",
     "A digital workspace gives access to timetables, grades and email."),
    ("Le restaurant universitaire est ouvert du lundi au vendredi, midi et soir.",
     "The university restaurant is open Monday to Friday, lunch and dinner."),
    ("Les stages de fin d’études durent au minimum douze semaines en France ou à l’étranger.",
     "Final internships last at least twelve weeks, in France or abroad."),
    ("Des permanences d’orientation sont proposées chaque mercredi après-midi.",
     "Guidance sessions are held every Wednesday afternoon."),
    ("Le fablab met à disposition imprimantes 3D, découpeuse laser et outillage électronique.",
     "The fablab provides 3D printers, a laser cutter and electronics tools."),
    ("L’institut s’engage dans une démarche de développement durable et de sobriété numérique.",
     "The institute is committed to sustainability and digital sobriety."),
    ("Les anciens diplômés témoignent de leur parcours lors des rencontres métiers.",
     "Alumni share their careers at job fairs."),
    ("La plateforme de stages recense plus de huit cents offres chaque année.",
     "The internship platform lists more than eight hundred offers each year."),
]

TOPICS = [
    ("Les vacances et l’animation", "Holidays and community work"),
    ("L’intelligence artificielle dans les métiers du tertiaire", "AI in service jobs"),
    ("Communication et territoires", "Communication and territories"),
    ("Les nouveaux usages du numérique", "New digital practices"),
    ("Économie sociale et solidaire", "Social and solidarity economy"),
    ("Médias locaux et démocratie", "Local media and democracy"),
    ("L’alternance, un tremplin vers l’emploi", "Work-study, a springboard to jobs"),
    ("Transition écologique des entreprises", "Ecological transition of companies"),
    ("Le son et l’image", "Sound and image"),
    ("Jeunesse et engagement", "Youth and commitment"),
]

DEPARTMENTS = [
    ("Gestion des entreprises et des administrations", "Business and administration"),
    ("Information-communication", "Information and communication"),
    ("Carrières sociales", "Social careers"),
    ("Métiers du multimédia et de l’internet", "Multimedia and internet"),
    ("Techniques de commercialisation", "Sales and marketing"),
    ("Carrières juridiques", "Legal careers"),
    ("Gestion administrative et commerciale", "Administrative and commercial management"),
]

POST_TITLES = [
    ("Colloque « {topic} »", "Conference: {topic}"),
    ("Journée portes ouvertes {year}", "Open day {year}"),
    ("Soutenances des projets tutorés en {dept}", "Project defences in {dept}"),
    ("Conférence : {topic}", "Talk: {topic}"),
    ("Remise des diplômes de la promotion {year}", "Graduation ceremony, class of {year}"),
    ("Rentrée {year} : bienvenue aux nouveaux étudiants", "Back to school {year}: welcome to new students"),
    ("Élection des représentants étudiants au conseil d’institut", "Student representatives elected to the council"),
    ("Nouvelle salle équipée pour le département {dept}", "New equipped room for the {dept} department"),
    ("Appel à candidatures : mobilité internationale {year}", "Call for applications: exchanges {year}"),
    ("Séminaire de recherche « {topic} »", "Research seminar: {topic}"),
    ("Forum des métiers et de l’alternance {year}", "Careers and work-study fair {year}"),
    ("Un prix pour les étudiants de {dept}", "An award for {dept} students"),
]

FIRST_NAMES = ["Alain", "Camille", "Sophie", "Julien", "Nadia", "Pierre", "Claire", "Thomas", "Léa", "Hugo",
               "Inès", "Mathieu", "Chloé", "Karim", "Élodie", "Nicolas", "Sarah", "Antoine", "Manon", "Yann",
               "Aurélie", "Olivier", "Fatima", "Benoît", "Lucie", "Damien", "Marion", "Rémi", "Hélène", "Samir",
               "Justin", "Agnès", "Grégoire", "Noémie", "Patrick", "Zoé", "Cédric", "Amandine", "Théo", "Maëlle"]
LAST_NAMES = ["Bouldoires", "Martin", "Bernard", "Dubois", "Durand", "Lefebvre", "Moreau", "Laurent", "Simon",
              "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André",
              "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Legrand", "Garnier", "Faure",
              "Rousseau", "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin",
              "Mathieu", "Clément", "Gauthier", "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin", "Masson",
              "Sanchez", "Puyo", "Boyer", "Denis", "Lemaire", "Duval", "Joly", "Gautier", "Roger", "Roche"]
ROLES = [
    ("Maître de conférences en {dept}", "Senior lecturer in {dept}"),
    ("Professeur des universités en {dept}", "Professor in {dept}"),
    ("Chef du département {dept}", "Head of the {dept} department"),
    ("Responsable de la formation continue", "Head of continuing education"),
    ("Gestionnaire de scolarité", "Student records officer"),
    ("Chargée de mission relations internationales", "International relations officer"),
    ("Enseignant associé, professionnel de la communication", "Associate lecturer, communication professional"),
    ("Directeur de l’institut", "Director of the institute"),
]
ORG_KINDS = [("Laboratoire", "Laboratory"), ("Association", "Association"), ("Entreprise", "Company"),
             ("Agence", "Agency"), ("Collectif", "Collective"), ("Fondation", "Foundation")]
ORG_NAMES = ["LAPAS", "MICA", "Aquitaine Médias", "Sud Ouest Numérique", "Atelier Garonne", "Les Chartrons",
             "Océan Conseil", "Terres d’Avenir", "Pôle Image", "Bordeaux Solidaire", "Cap Sciences", "Ligne 33",
             "Horizons Ruraux", "Studio Lumière", "Dune Lab", "Estuaire", "Quai des Savoirs", "Tram B",
             "Pin des Landes", "Les Capucins"]
CATEGORY_NAMES = {
    "posts": [("Actualités de l’IUT", "Institute news"), ("Recherche", "Research"), ("Vie étudiante", "Student life"),
              ("International", "International"), ("Formation continue", "Continuing education"),
              ("Alternance", "Work-study"), ("Événements", "Events"), ("Partenariats", "Partnerships"),
              ("Culture", "Culture"), ("Sport", "Sport"), ("Insertion professionnelle", "Careers"),
              ("Institution", "Institution"), ("Prix et distinctions", "Awards"), ("Numérique", "Digital"),
              ("Développement durable", "Sustainability"), ("Portes ouvertes", "Open days"),
              ("Colloques", "Conferences"), ("Témoignages", "Testimonials"), ("Presse", "Press"),
              ("Concours", "Competitions")],
    # Pages categories live at the root of the URL space, like pages: no name a section page
    # also has ("Services", "Recherche"), or two objects would share a URL.
    "pages": [("Offre de formation", "Study offer"), ("Vie du campus", "Campus life"),
              ("Services aux étudiants", "Student services"), ("Institution", "Institution"),
              ("Projets de recherche", "Research projects"), ("Informations légales", "Legal")],
    "persons": [("Enseignants", "Teachers"), ("Personnels administratifs", "Administrative staff")],
    "organizations": [("Partenaires académiques", "Academic partners"), ("Entreprises", "Companies")],
}
SECTION_TITLES = [
    ("L’institut", "The institute"), ("Formation", "Programmes"), ("Admission", "Admission"),
    ("Vie étudiante", "Student life"), ("International", "International"), ("Recherche", "Research"),
    ("Entreprises", "Companies"), ("Formation continue", "Continuing education"), ("Services", "Services"),
    ("Ressources", "Resources"),
]
SUBPAGE_TITLES = [
    ("Présentation", "Overview"), ("Histoire et héritage", "History"), ("Chiffres clés", "Key figures"),
    ("Équipe de direction", "Management team"), ("Calendrier", "Calendar"), ("Modalités", "How it works"),
    ("Témoignages", "Testimonials"), ("Foire aux questions", "FAQ"), ("Contacts", "Contacts"),
    ("Documents utiles", "Useful documents"), ("Partenaires", "Partners"), ("Financement", "Funding"),
    ("Stages", "Internships"), ("Projets tutorés", "Supervised projects"), ("Équipements", "Facilities"),
    ("Accessibilité", "Accessibility"),
]
LEGAL_PAGES = [("Mentions légales", "Legal notice"), ("Accessibilité", "Accessibility statement"),
               ("Données personnelles", "Personal data"), ("Plan du site", "Site map")]
FIGURES = [(2100, "", "étudiants", "students"), (7, "", "départements", "departments"),
           (92, "%", "de réussite", "success rate"), (60, "", "universités partenaires", "partner universities"),
           (800, "", "offres de stage", "internship offers"), (150, "", "enseignants", "teachers")]
LANG_INDEX = {"fr": 0, "en": 1}  # other languages reuse the English pools


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _pick(pair: Sequence[str], language: str) -> str:
    return pair[LANG_INDEX.get(language, 1)]


# ----------------------------------------------------------------------------- one website


@dataclass
class PagePlan:
    key: str
    parent: str | None
    titles: tuple[str, str]  # (fr, en)
    legal: bool = False


class SiteBuilder:
    """Builds one website's lists; every choice comes from `rng`, in a fixed order."""

    def __init__(self, rng: random.Random, site_id: str, languages: Sequence[str]):
        self.rng, self.site, self.languages = rng, site_id, list(languages)
        self.media_ids: list[str] = []
        self.image_ids: list[str] = []
        self.people: list[str] = []
        self.organizations: list[str] = []
        self.categories: dict[str, list[str]] = {}
        self.pages: list[PagePlan] = []
        self.posts: list[str] = []
        self.slugs: dict[str, set[str]] = {}

    # -- helpers

    def oid(self, kind: str, n: int) -> str:
        return f"{self.site}-{kind}-{n:05d}" if self.site != "demo" else f"{kind}-{n:03d}"

    def unique_slug(self, scope: str, base: str) -> str:
        taken = self.slugs.setdefault(scope, set())
        slug, n = base or "page", 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        return slug

    def sentences(self, language: str, count: int) -> str:
        return " ".join(_pick(self.rng.choice(SENTENCES), language) for _ in range(count))

    def html(self, language: str, paragraphs: int) -> str:
        return "".join(f"<p>{self.sentences(language, self.rng.randint(2, 5))}</p>" for _ in range(paragraphs))

    def date(self, start_year: int = 2012, end_year: int = 2025) -> str:
        start = datetime(start_year, 1, 1, 8, 0)
        seconds = int((datetime(end_year, 12, 31) - start).total_seconds())
        moment = start + timedelta(seconds=self.rng.randrange(seconds))
        return moment.replace(tzinfo=PARIS).isoformat(timespec="seconds")

    def localized(self, make) -> dict[str, dict[str, Any]]:
        return {language: make(language) for language in self.languages}

    # -- lists

    def build_media(self, count: int) -> list[dict[str, Any]]:
        media = []
        for n in range(count):
            media_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
            self.media_ids.append(media_id)
            kind = self.rng.random()
            if kind < 0.08:
                name, content_type, size, width, height = f"document-{n + 1}.pdf", "application/pdf", \
                    self.rng.randint(80_000, 4_000_000), None, None
            else:
                png = kind < 0.2
                width = self.rng.choice([640, 800, 1200, 1600, 2048])
                height = width * self.rng.choice([9, 10, 12]) // 16
                name = f"photo-{n + 1}.{'png' if png else 'jpg'}"
                content_type = "image/png" if png else "image/jpeg"
                size = self.rng.randint(40_000, 900_000)
                self.image_ids.append(media_id)
            media.append({"id": media_id, "name": name, "content_type": content_type, "size": size,
                          "width": width, "height": height,
                          "url": f"https://cdn.example.org/{self.site}/{media_id}/{name}"})
        return media

    def image(self) -> str | None:
        return self.rng.choice(self.image_ids) if self.image_ids else None

    def build_people(self, count: int) -> list[dict[str, Any]]:
        people = []
        for n in range(count):
            person_id = self.oid("person", n + 1)
            self.people.append(person_id)
            first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
            slug = self.unique_slug("person", slugify(f"{first} {last}"))
            role, dept = self.rng.choice(ROLES), self.rng.choice(DEPARTMENTS)

            def loc(language: str, first=first, last=last, slug=slug, role=role, dept=dept) -> dict[str, Any]:
                return {"first_name": first, "last_name": last, "slug": slug,
                        "summary": f"<p>{_pick(role, language).format(dept=_pick(dept, language))}</p>",
                        "biography": self.html(language, self.rng.randint(1, 2)),
                        "published": self.rng.random() < 0.95}

            people.append({"id": person_id, "image": self.image() if self.rng.random() < 0.6 else None,
                           "localizations": self.localized(loc)})
        return people

    def build_organizations(self, count: int) -> list[dict[str, Any]]:
        organizations = []
        for n in range(count):
            org_id = self.oid("organization", n + 1)
            self.organizations.append(org_id)
            kind = self.rng.choice(ORG_KINDS)
            base = ORG_NAMES[n % len(ORG_NAMES)]
            suffix = "" if n < len(ORG_NAMES) else f" {n // len(ORG_NAMES) + 1}"

            def loc(language: str, kind=kind, base=base, suffix=suffix) -> dict[str, Any]:
                name = f"{_pick(kind, language)} {base}{suffix}" if kind[0] != "Laboratoire" else base + suffix
                return {"name": name, "slug": slugify(base + suffix), "summary": self.sentences(language, 1),
                        "text": self.html(language, self.rng.randint(1, 2)), "published": True}

            organizations.append({"id": org_id, "logo": self.image() if self.rng.random() < 0.7 else None,
                                  "localizations": self.localized(loc)})
        return organizations

    def build_categories(self, counts: dict[str, int]) -> list[dict[str, Any]]:
        categories = []
        n = 0
        for kind, count in counts.items():
            names = CATEGORY_NAMES[kind]
            ids: list[str] = []
            for i in range(count):
                n += 1
                cat_id = self.oid("category", n)
                pair = names[i % len(names)]
                suffix = "" if i < len(names) else f" {i // len(names) + 1}"
                # A few subcategories, to have trees: the 4th, 8th... hang under the first.
                parent = ids[0] if ids and i % 4 == 3 else None

                def loc(language: str, pair=pair, suffix=suffix, kind=kind) -> dict[str, Any]:
                    name = _pick(pair, language) + suffix
                    slug = self.unique_slug(f"category-{kind}-{language}", slugify(name))
                    return {"name": name, "slug": slug,
                            "summary": self.sentences(language, 1), "published": True}

                categories.append({"id": cat_id, "website": self.site, "kind": kind, "parent": parent,
                                   "position": i, "localizations": self.localized(loc)})
                ids.append(cat_id)
            self.categories[kind] = ids
        return categories

    def plan_pages(self, count: int) -> list[PagePlan]:
        """home, sections, subpages, sub-subpages: 4 levels, like a real institute's tree."""
        plans = [PagePlan(self.oid("page", 1), None, ("Accueil", "Home"))]
        legal = [PagePlan(self.oid("page", 2 + i), plans[0].key, pair, legal=True)
                 for i, pair in enumerate(LEGAL_PAGES[:max(0, min(4, count - 2))])]
        plans += legal
        remaining = count - len(plans)
        sections = max(1, min(len(SECTION_TITLES), remaining // 25 or 1))
        level1 = [PagePlan(self.oid("page", len(plans) + i + 1), plans[0].key, SECTION_TITLES[i])
                  for i in range(min(sections, remaining))]
        plans += level1
        remaining = count - len(plans)
        level2: list[PagePlan] = []
        for i in range(min(remaining, len(level1) * 6)):
            parent = level1[i % len(level1)]
            pair = self.rng.choice(SUBPAGE_TITLES)
            level2.append(PagePlan(self.oid("page", len(plans) + i + 1), parent.key, pair))
        plans += level2
        remaining = count - len(plans)
        for _ in range(remaining):
            parent = level2[self.rng.randrange(len(level2))] if level2 else plans[0]
            topic = self.rng.choice(TOPICS + DEPARTMENTS)
            plans.append(PagePlan(self.oid("page", len(plans) + 1), parent.key, topic))
        return plans

    def build_pages(self, plans: list[PagePlan]) -> list[dict[str, Any]]:
        self.pages = plans
        children: dict[str, list[str]] = {}
        for plan in plans:
            if plan.parent:
                children.setdefault(plan.parent, []).append(plan.key)
        pages = []
        for index, plan in enumerate(plans):
            siblings = children.get(plan.parent or "", [])
            position = siblings.index(plan.key) if plan.parent else 0
            page_categories = ([self.rng.choice(self.categories.get("pages", []))]
                               if self.categories.get("pages") and self.rng.random() < 0.3 else [])
            has_children = plan.key in children

            def loc(language: str, plan=plan, index=index, has_children=has_children) -> dict[str, Any]:
                title = _pick(plan.titles, language)
                slug = "" if plan.parent is None else \
                    self.unique_slug(f"page-{plan.parent}-{language}", slugify(title))
                return {"title": title, "slug": slug,
                        "summary": self.sentences(language, 1), "published": True,
                        "blocks": self.page_blocks(plan, language, index, has_children)}

            pages.append({"id": plan.key, "website": self.site, "parent": plan.parent, "position": position,
                          "categories": page_categories, "localizations": self.localized(loc)})
        return pages

    def page_blocks(self, plan: PagePlan, language: str, index: int, has_children: bool) -> list[dict[str, Any]]:
        templates = ["chapter"]
        if plan.parent is None:  # the home page shows a bit of everything
            templates = ["key_figures", "posts", "pages", "persons", "organizations", "call_to_action", "chapter"]
        elif plan.legal:
            templates = ["chapter", "chapter"]
        else:
            extra = ["chapter", "title", "image", "call_to_action", "key_figures", "posts", "persons",
                     "organizations"]
            # Every template appears early on (index-driven), then the mix is random.
            templates += [extra[index % len(extra)]] + self.rng.sample(extra, self.rng.randint(0, 3))
            if has_children:
                templates.append("pages")
        blocks = []
        for n, template in enumerate(templates):
            data = self.block_data(template, language, plan.key)
            if data is not None:
                blocks.append({"id": f"{plan.key}-{language}-b{n + 1}", "template": template, "data": data})
        return blocks

    def block_data(self, template: str, language: str, page: str) -> dict[str, Any] | None:
        rng = self.rng
        if template == "chapter":
            return {"title": _pick(rng.choice(SUBPAGE_TITLES), language),
                    "text": self.html(language, rng.randint(1, 4))}
        if template == "title":
            return {"title": _pick(rng.choice(SECTION_TITLES), language)}
        if template == "image":
            image = self.image()
            return {"image": image, "alt": self.sentences(language, 1)[:80], "credit": "© IUT"} if image else None
        if template == "call_to_action":
            return {"title": _pick(("Candidater", "Apply"), language), "text": self.sentences(language, 1),
                    "buttons": [{"title": _pick(("En savoir plus", "Learn more"), language),
                                 "url": "https://www.parcoursup.fr"}]}
        if template == "key_figures":
            figures = rng.sample(FIGURES, 3)
            return {"figures": [{"number": f[0], "unit": f[1], "description": f[2 + LANG_INDEX.get(language, 1)]}
                                for f in figures]}
        if template == "posts":
            post_categories = self.categories.get("posts", [])
            if post_categories and rng.random() < 0.6:
                return {"mode": "category", "category": rng.choice(post_categories), "quantity": rng.randint(3, 6)}
            return {"mode": "all", "quantity": rng.randint(3, 6)}
        if template == "pages":
            return {"mode": "children", "page": page}
        if template == "persons":
            return {"persons": rng.sample(self.people, min(len(self.people), rng.randint(2, 6)))} \
                if self.people else None
        if template == "organizations":
            return {"organizations": rng.sample(self.organizations, min(len(self.organizations),
                                                                        rng.randint(2, 5)))} \
                if self.organizations else None
        raise ValueError(template)

    def build_posts(self, count: int) -> list[dict[str, Any]]:
        posts = []
        post_categories = self.categories.get("posts", [])
        for n in range(count):
            post_id = self.oid("post", n + 1)
            self.posts.append(post_id)
            published_at = self.date()
            year = published_at[:4]
            pattern, topic, dept = self.rng.choice(POST_TITLES), self.rng.choice(TOPICS), \
                self.rng.choice(DEPARTMENTS)
            titles = tuple(p.format(topic=_pick(topic, lang), dept=_pick(dept, lang), year=year)
                           for p, lang in zip(pattern, ("fr", "en"), strict=True))
            categories = self.rng.sample(post_categories, min(len(post_categories), self.rng.randint(1, 2)))
            authors = self.rng.sample(self.people, min(len(self.people), self.rng.randint(0, 2)))
            published = self.rng.random() < 0.97

            def loc(language: str, titles=titles, post_id=post_id, published_at=published_at,
                    published=published) -> dict[str, Any]:
                slug = self.unique_slug(f"post-{published_at[:10]}-{language}", slugify(_pick(titles, language)))
                blocks = [{"id": f"{post_id}-{language}-b1", "template": "chapter",
                           "data": {"text": self.html(language, self.rng.randint(1, 4))}}]
                if self.rng.random() < 0.3 and self.image_ids:
                    blocks.append({"id": f"{post_id}-{language}-b2", "template": "image",
                                   "data": {"image": self.image(), "alt": _pick(titles, language), "credit": ""}})
                return {"title": _pick(titles, language), "slug": slug, "summary": self.sentences(language, 2),
                        "published": published, "published_at": published_at, "blocks": blocks}

            posts.append({"id": post_id, "website": self.site, "categories": categories, "authors": authors,
                          "image": self.image() if self.rng.random() < 0.8 else None,
                          "localizations": self.localized(loc)})
        return posts

    def build_menus(self) -> list[dict[str, Any]]:
        by_parent: dict[str, list[PagePlan]] = {}
        for plan in self.pages:
            if plan.parent:
                by_parent.setdefault(plan.parent, []).append(plan)
        home = self.pages[0]
        sections = [p for p in by_parent.get(home.key, []) if not p.legal]
        legal = [p for p in by_parent.get(home.key, []) if p.legal]
        menus = []
        for language in self.languages:
            primary = [{"title": _pick(("Accueil", "Home"), language), "target": {"page": home.key}}]
            for section in sections:
                primary.append({"title": _pick(section.titles, language), "target": {"page": section.key},
                                "children": [{"title": _pick(child.titles, language), "target": {"page": child.key}}
                                             for child in by_parent.get(section.key, [])[:8]]})
            if self.categories.get("posts"):
                primary.append({"title": _pick(("Actualités", "News"), language),
                                "target": {"category": self.categories["posts"][0]}})
            legal_items = [{"title": _pick(p.titles, language), "target": {"page": p.key}} for p in legal]
            legal_items.append({"title": "Osuny", "url": "https://www.osuny.org"})
            suffix = f"-{language}"
            menus.append({"id": f"{self.site}-primary{suffix}" if self.site != "demo" else f"primary{suffix}",
                          "website": self.site, "identifier": "primary", "language": language,
                          "title": _pick(("Menu principal", "Main menu"), language), "items": primary})
            menus.append({"id": f"{self.site}-legal{suffix}" if self.site != "demo" else f"legal{suffix}",
                          "website": self.site, "identifier": "legal", "language": language,
                          "title": _pick(("Mentions", "Legal"), language), "items": legal_items})
        return menus


def _website(site_id: str, name: str, repository: str, languages: Sequence[str]) -> dict[str, Any]:
    return {"id": site_id, "name": name, "url": f"https://{site_id}.example.org", "repository": repository,
            "branch": "main", "languages": list(languages)}


def _build_site(builder: SiteBuilder, counts: dict[str, int], category_counts: dict[str, int],
                page_plans: list[PagePlan] | None = None) -> dict[str, list[dict[str, Any]]]:
    media = builder.build_media(counts["media"])
    people = builder.build_people(counts["people"])
    organizations = builder.build_organizations(counts["organizations"])
    categories = builder.build_categories(category_counts)
    pages = builder.build_pages(page_plans or builder.plan_pages(counts["pages"]))
    posts = builder.build_posts(counts["posts"])
    return {"media": media, "people": people, "organizations": organizations, "categories": categories,
            "pages": pages, "posts": posts, "menus": builder.build_menus()}


LIST_ORDER = ("websites", "media", "people", "organizations", "categories", "pages", "posts", "menus")


def build_fixture(websites: int, scale: float, seed: int, *, languages: Sequence[str] = ("fr",),
                  remote_dir: str = "./remotes") -> dict[str, list[dict[str, Any]]]:
    """`websites` websites (site-001...) of `scale` times a real Osuny site, in the fixture format.

    Repositories are `<remote_dir>/<website>.git` (a relative remote_dir is resolved
    against the fixture file's folder when loaded from a file)."""
    rng = random.Random(seed)
    counts = {kind: max(1, round(n * scale)) for kind, n in SCALE_1.items()}
    counts["pages"] = max(counts["pages"], 6)
    fixture: dict[str, list[dict[str, Any]]] = {name: [] for name in LIST_ORDER}
    for w in range(1, websites + 1):
        site_id = f"site-{w:03d}"
        fixture["websites"].append(_website(site_id, f"Site {w:03d}", f"{remote_dir.rstrip('/')}/{site_id}.git",
                                            languages))
        for name, items in _build_site(SiteBuilder(rng, site_id, languages), counts, CATEGORY_KIND_COUNTS).items():
            fixture[name].extend(items)
    return fixture


# ----------------------------------------------------------------------------- the demo

DEMO_PAGES: list[tuple[str, str | None, tuple[str, str]]] = [
    ("home", None, ("Accueil", "Home")),
    ("institut", "home", ("L’institut", "The institute")),
    ("presentation", "institut", ("Présentation de l’IUT", "About the institute")),
    ("histoire", "presentation", ("Histoire et héritage", "History and heritage")),
    ("atouts", "presentation", ("Atouts des IUT", "Why an IUT")),
    ("chiffres-cles", "presentation", ("Rapports et chiffres clés", "Reports and key figures")),
    ("gouvernance", "institut", ("Gouvernance", "Governance")),
    ("conseil", "gouvernance", ("Conseil d’institut", "Institute council")),
    ("direction", "gouvernance", ("Équipe de direction", "Management team")),
    ("entreprises", "institut", ("Relations avec les entreprises", "Working with companies")),
    ("taxe-apprentissage", "entreprises", ("Taxe d’apprentissage", "Apprenticeship tax")),
    ("formation", "home", ("Formation", "Programmes")),
    ("but", "formation", ("Bachelors universitaires de technologie", "Bachelors of technology")),
    ("but-gea", "but", ("BUT Gestion des entreprises et des administrations", "BUT Business and administration")),
    ("but-infocom", "but", ("BUT Information-communication", "BUT Information and communication")),
    ("but-carrieres-sociales", "but", ("BUT Carrières sociales", "BUT Social careers")),
    ("but-mmi", "but", ("BUT Métiers du multimédia et de l’internet", "BUT Multimedia and internet")),
    ("but-tc", "but", ("BUT Techniques de commercialisation", "BUT Sales and marketing")),
    ("licences-pro", "formation", ("Licences professionnelles", "Professional degrees")),
    ("lp-communication", "licences-pro", ("Licence pro Communication des organisations",
                                          "Professional degree in organisational communication")),
    ("lp-animation", "licences-pro", ("Licence pro Animation sociale", "Professional degree in community work")),
    ("regimes", "formation", ("Régimes d’inscription", "Ways to study")),
    ("formation-continue", "regimes", ("Formation continue", "Continuing education")),
    ("alternance", "regimes", ("Alternance", "Work-study")),
    ("vae", "regimes", ("Validation des acquis de l’expérience", "Accreditation of prior learning")),
    ("admission", "home", ("Admission", "Admission")),
    ("candidater", "admission", ("Candidater", "How to apply")),
    ("inscriptions", "admission", ("Inscriptions administratives", "Enrolment")),
    ("frais", "admission", ("Frais d’inscription", "Tuition fees")),
    ("vie-etudiante", "home", ("Vie étudiante", "Student life")),
    ("associations", "vie-etudiante", ("Associations étudiantes", "Student societies")),
    ("handicap", "vie-etudiante", ("Accueil des étudiants en situation de handicap", "Students with disabilities")),
    ("restauration", "vie-etudiante", ("Restauration et logement", "Food and housing")),
    ("sport-culture", "vie-etudiante", ("Sport et culture", "Sport and culture")),
    ("international", "home", ("International", "International")),
    ("partir", "international", ("Partir à l’étranger", "Studying abroad")),
    ("accueil-internationaux", "international", ("Étudiants internationaux", "International students")),
    ("erasmus", "partir", ("Programme Erasmus+", "Erasmus+ programme")),
    ("recherche", "home", ("Recherche", "Research")),
    ("laboratoires", "recherche", ("Laboratoires", "Laboratories")),
    ("publications", "recherche", ("Publications", "Publications")),
    ("annuaire", "home", ("Annuaire", "Directory")),
    ("contact", "home", ("Contact et accès", "Contact and directions")),
    ("mentions-legales", "home", ("Mentions légales", "Legal notice")),
    ("accessibilite", "home", ("Accessibilité", "Accessibility")),
    ("donnees-personnelles", "home", ("Données personnelles", "Personal data")),
    ("plan-du-site", "home", ("Plan du site", "Site map")),
]
DEMO_LEGAL = ("mentions-legales", "accessibilite", "donnees-personnelles", "plan-du-site")
DEMO_COUNTS = {"media": 120, "people": 60, "organizations": 20, "posts": 200}
DEMO_CATEGORY_COUNTS = {"posts": 6, "pages": 2, "persons": 1, "organizations": 1}


def build_demo_fixture() -> dict[str, list[dict[str, Any]]]:
    """The demo website `demo` ("IUT Démo"), French (default) and English."""
    rng = random.Random(2025)
    languages = ("fr", "en")
    builder = SiteBuilder(rng, "demo", languages)
    plans = [PagePlan(key, parent, titles, legal=key in DEMO_LEGAL) for key, parent, titles in DEMO_PAGES]
    site = _build_site(builder, DEMO_COUNTS, DEMO_CATEGORY_COUNTS, plans)
    website = _website("demo", "IUT Démo", DEMO_REPOSITORY_PLACEHOLDER, languages)
    website["url"] = "https://www.iut-demo.example.org"
    return {"websites": [website], **site}


# ----------------------------------------------------------------------------- output


def dump_fixture(fixture: dict[str, Any]) -> str:
    """YAML with a fixed layout (key order kept, unicode as is, no line wrapping)."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(fixture, Dumper=dumper, allow_unicode=True, sort_keys=False, width=1_000_000,
                     default_flow_style=False)


def dump_fixture_json(fixture: dict[str, Any]) -> str:
    """The same content as JSON (also valid YAML), for huge seeds: it parses ~50x faster."""
    return json.dumps(fixture, ensure_ascii=False, indent=1) + "\n"


def write_demo_fixture(path: Path = DEMO_PATH) -> Path:
    path.write_text(dump_fixture(build_demo_fixture()), encoding="utf-8")
    return path


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-demo", action="store_true", help=f"regenerate {DEMO_PATH}")
    args = parser.parse_args(argv)
    if args.write_demo:
        print(f"wrote {write_demo_fixture()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())

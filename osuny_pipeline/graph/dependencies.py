"""Dependencies, references and publication: Osuny's `HasDependencies`, in Python.

* `dependencies(obj)`: what `obj` needs to be rendered, direct only.
* `references(obj)`: the objects whose files display `obj` (re-rendered when it changes).
* `recursive_dependencies(obj)`: the depth-first closure of dependencies with a visited
  set (cycles are normal: a page lists its children, a child depends on its parent),
  cut at unpublished objects, and by default not descending into direct objects
  (Osuny's `skip_direct`): a post's page does not drag in the whole website.

The rules live in the `*_in(snapshot, ...)` functions so that identification shares one
bulk-loaded `Snapshot`; the public functions take a session and build a fresh one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from osuny_pipeline.graph.snapshot import BlockRow, Snapshot
from osuny_pipeline.owners import DIRECT_TYPES, ObjectRef

# Objects without a publication state count as published when they exist (Osuny's
# `dependency_published?` for objects that do not answer `published?`).
ALWAYS_PUBLISHED = frozenset({"website", "media", "menu"})
TREE_TYPES = frozenset({"page", "category"})


# ---------------------------------------------------------------------------- publication


def _l10n_live(type_: str, published: bool, published_at: datetime | None, now: datetime) -> bool:
    """A localization is live when published and not future-dated; a post also needs a date."""
    if not published:
        return False
    if published_at is None:
        return type_ != "post"
    return published_at <= now


def is_published_in(snap: Snapshot, ref: ObjectRef) -> bool:
    cached = snap.published.get(ref)
    if cached is None:
        cached = snap.published[ref] = _is_published(snap, ref, set())
    return cached


def _is_published(snap: Snapshot, ref: ObjectRef, seen: set[ObjectRef]) -> bool:
    if ref.type == "block":
        block = snap.block(ref.id)
        return (block is not None and block.published
                and _l10n_live(block.owner.type, block.l10n_published, block.l10n_published_at, snap.now))
    row = snap.row(ref)
    if row is None:
        return False
    if ref.type in ALWAYS_PUBLISHED:
        return True
    if not any(_l10n_live(ref.type, t.published, t.published_at, snap.now) for t in snap.localizations(ref)):
        return False
    if ref.type in TREE_TYPES and row.parent_id is not None:
        # A page under an unpublished page has no URL: its whole subtree is off the site.
        seen.add(ref)
        parent = ObjectRef(ref.type, row.parent_id)
        if parent in seen:  # a corrupt parent cycle: treat as unpublished rather than loop
            return False
        return _is_published(snap, parent, seen)
    return True


# ---------------------------------------------------------------------------- dependencies


def _ids(value: Any) -> list[str]:
    """A block's list of ids, tolerant of a missing key or a single id."""
    if value is None:
        return []
    if isinstance(value, (str, int)):
        return [str(value)]
    return [str(v) for v in value if v is not None and v != ""]


def _quantity(data: dict[str, Any]) -> int | None:
    try:
        value = int(data.get("quantity") or 0)
    except (TypeError, ValueError):
        return None
    return value if value > 0 else None


def children_in(snap: Snapshot, ref: ObjectRef) -> list[str]:
    """Children of a page or category, by position then id (the website's rows are loaded once)."""
    row = snap.row(ref)
    if row is None or row.website_id is None:
        return []
    members = snap.website_members(row.website_id, ref.type)
    kids = [snap.rows[ObjectRef(ref.type, i)] for i in members]
    ordered = sorted((k for k in kids if k is not None and k.parent_id == ref.id),
                     key=lambda k: (k.position, k.ref.id))
    return [k.ref.id for k in ordered]


def descendants_in(snap: Snapshot, ref: ObjectRef) -> list[str]:
    out: list[str] = []
    stack = [ref.id]
    seen = {ref.id}
    while stack:
        for child in children_in(snap, ObjectRef(ref.type, stack.pop())):
            if child not in seen:
                seen.add(child)
                out.append(child)
                stack.append(child)
    return out


def ancestors_in(snap: Snapshot, ref: ObjectRef) -> list[str]:
    out: list[str] = []
    row = snap.row(ref)
    seen = {ref.id}
    while row is not None and row.parent_id is not None and row.parent_id not in seen:
        seen.add(row.parent_id)
        out.append(row.parent_id)
        row = snap.row(ObjectRef(ref.type, row.parent_id))
    return out


def _published_posts(snap: Snapshot, post_ids: Iterable[str], language: str) -> list[str]:
    """Posts live in `language`, newest first (published_at desc, then id): a list block's order."""
    refs = [ObjectRef("post", i) for i in post_ids]
    snap.load_l10ns(refs)
    dated: list[tuple[datetime, str]] = []
    for ref in refs:
        for l10n in snap.localizations(ref):
            if l10n.language == language and _l10n_live("post", l10n.published, l10n.published_at, snap.now):
                assert l10n.published_at is not None
                dated.append((l10n.published_at, ref.id))
    dated.sort(key=lambda d: d[1])
    dated.sort(key=lambda d: d[0], reverse=True)
    return [post_id for _, post_id in dated]


def listed_posts_in(snap: Snapshot, block: BlockRow) -> list[str]:
    """The posts a `posts` block shows now: mode all | category (with descendants) | selection."""
    data = block.data
    mode = data.get("mode") or "all"
    if mode == "selection":
        return list(dict.fromkeys(_ids(data.get("posts"))))
    if mode == "category":
        category = data.get("category")
        if not category:
            return []
        categories = [str(category), *descendants_in(snap, ObjectRef("category", str(category)))]
        candidates = {p for posts in snap.posts_in_categories(categories).values() for p in posts}
    else:
        owner = snap.row(block.owner)
        if owner is None or owner.website_id is None:  # a block of an indirect object: no website
            return []
        candidates = set(snap.website_members(owner.website_id, "post"))
    listed = _published_posts(snap, sorted(candidates), block.language)
    quantity = _quantity(data)
    return listed[:quantity] if quantity else listed


def listed_pages_in(snap: Snapshot, block: BlockRow) -> list[str]:
    data = block.data
    if (data.get("mode") or "children") == "selection":
        return list(dict.fromkeys(_ids(data.get("pages"))))
    page = data.get("page") or (block.owner.id if block.owner.type == "page" else None)
    return children_in(snap, ObjectRef("page", str(page))) if page else []


def block_dependencies_in(snap: Snapshot, block: BlockRow) -> list[ObjectRef]:
    """What a block's template shows (FIXTURES.md, block templates)."""
    data = block.data
    template = block.template
    if template == "image":
        return [ObjectRef("media", i) for i in _ids(data.get("image"))]
    if template == "persons":
        return [ObjectRef("person", i) for i in _ids(data.get("persons"))]
    if template == "organizations":
        return [ObjectRef("organization", i) for i in _ids(data.get("organizations"))]
    if template == "posts":
        return [ObjectRef("post", i) for i in listed_posts_in(snap, block)]
    if template == "pages":
        return [ObjectRef("page", i) for i in listed_pages_in(snap, block)]
    return []


def dependencies_in(snap: Snapshot, ref: ObjectRef) -> list[ObjectRef]:
    # Content does not change during a snapshot's life: each object's answer is computed once.
    cached = snap.dependencies.get(ref)
    if cached is None:
        cached = snap.dependencies[ref] = _dependencies(snap, ref)
    return cached


def _dependencies(snap: Snapshot, ref: ObjectRef) -> list[ObjectRef]:
    deps: set[ObjectRef] = set()
    if ref.type == "block":
        block = snap.block(ref.id)
        return sorted(set(block_dependencies_in(snap, block))) if block else []
    row = snap.row(ref)
    if row is None:
        return []
    if ref.type == "website":
        for type_ in ("page", "post", "category", "menu"):
            deps.update(ObjectRef(type_, i) for i in snap.website_members(ref.id, type_))
        return sorted(deps)
    if ref.type == "menu":
        snap.load_content([ref])
        return sorted(set(snap.menu_targets.get(ref.id, [])))
    if ref.type in ("page", "post", "category", "person", "organization"):
        deps.update(ObjectRef("block", b.id) for b in snap.object_blocks(ref))
    if ref.type in TREE_TYPES and row.parent_id is not None:
        deps.add(ObjectRef(ref.type, row.parent_id))
    if ref.type == "post":
        deps.update(ObjectRef("category", c) for c in snap.post_categories.get(ref.id, []))
        deps.update(ObjectRef("person", p) for p in snap.post_authors.get(ref.id, []))
    if ref.type == "page":
        deps.update(ObjectRef("category", c) for c in snap.page_categories.get(ref.id, []))
    if row.media_id is not None:
        deps.add(ObjectRef("media", row.media_id))
    deps.discard(ref)
    return sorted(deps)


def recursive_dependencies_in(snap: Snapshot, ref: ObjectRef, *, follow_direct: bool = False) -> list[ObjectRef]:
    """Depth-first, visited set, cut at unpublished objects (Osuny's recursive_dependencies)."""
    found: list[ObjectRef] = []
    visited = {ref}
    if not is_published_in(snap, ref):
        return found
    stack = [iter(dependencies_in(snap, ref))]
    while stack:  # iterative, so a 10,000-page tree cannot overflow Python's stack
        dep = next(stack[-1], None)
        if dep is None:
            stack.pop()
            continue
        if dep in visited:
            continue
        visited.add(dep)
        if not is_published_in(snap, dep):
            continue
        found.append(dep)
        if dep.type in DIRECT_TYPES and not follow_direct:
            continue
        stack.append(iter(dependencies_in(snap, dep)))
    return found


def prefetch_closure(snap: Snapshot, refs: Iterable[ObjectRef]) -> None:
    """Load, level by level, the rows, localizations and content of `refs` and of what they
    depend on, so that the walks that follow run from memory (no query per object)."""
    frontier = set(refs)
    loaded: set[ObjectRef] = set()
    while frontier:
        loaded |= frontier
        snap.load_rows(frontier)
        snap.load_l10ns(frontier)
        snap.load_content(r for r in frontier if r.type != "block")
        snap.load_blocks(r.id for r in frontier if r.type == "block")
        nxt: set[ObjectRef] = set()
        for ref in frontier:
            nxt.update(dependencies_in(snap, ref))
        frontier = nxt - loaded


# ---------------------------------------------------------------------------- references


def prefetch_references(snap: Snapshot, refs: Iterable[ObjectRef]) -> None:
    """Run the reverse lookups of many objects as a few bulk queries."""
    refs = list(refs)
    snap.load_rows(r for r in refs if r.type != "block")
    snap.menus_pointing_to(r for r in refs if r.type in ("page", "post", "category"))
    snap.load_content(r for r in refs if r.type == "post")
    snap.posts_in_categories(r.id for r in refs if r.type == "category")
    snap.pages_in_categories(r.id for r in refs if r.type == "category")
    snap.connected_sources(r for r in refs if r.type in ("person", "organization", "media"))
    snap.posts_authored_by(r.id for r in refs if r.type == "person")
    snap.media_users(r.id for r in refs if r.type == "media")


def _list_blocks_owners(blocks: Iterable[BlockRow]) -> set[ObjectRef]:
    return {b.owner for b in blocks}


def references_in(snap: Snapshot, ref: ObjectRef, *, website_hint: str | None = None) -> list[ObjectRef]:
    """The objects whose files display `ref`. A block's owner stands for the block (blocks
    have no file). `website_hint` names the website of a deleted direct object."""
    refs: set[ObjectRef] = set()
    row = snap.row(ref) if ref.type != "block" else None
    website_id = row.website_id if row is not None and row.website_id else website_hint
    if ref.type == "block":
        block = snap.block(ref.id)
        return [block.owner] if block else []
    if ref.type in ("page", "post", "category"):
        refs.update(ObjectRef("menu", m) for m in snap.menus_pointing_to([ref])[ref])
    if ref.type == "page":
        refs.update(_page_references(snap, ref, row))
    elif ref.type == "post":
        refs.update(_post_references(snap, ref, website_id))
    elif ref.type == "category":
        refs.update(_category_references(snap, ref, row))
    elif ref.type in ("person", "organization", "media"):
        refs.update(source for _, source in snap.connected_sources([ref])[ref])
        if ref.type == "person":
            refs.update(_list_blocks_owners(
                b for b in snap.list_blocks("persons") if ref.id in _ids(b.data.get("persons"))))
            refs.update(ObjectRef("post", p) for p in snap.posts_authored_by([ref.id])[ref.id])
        elif ref.type == "organization":
            refs.update(_list_blocks_owners(
                b for b in snap.list_blocks("organizations") if ref.id in _ids(b.data.get("organizations"))))
        else:
            refs.update(snap.media_users([ref.id])[ref.id])
            refs.update(_list_blocks_owners(
                b for b in snap.list_blocks("image") if ref.id in _ids(b.data.get("image"))))
    refs.discard(ref)
    return sorted(refs)


def _page_references(snap: Snapshot, ref: ObjectRef, row) -> set[ObjectRef]:
    refs: set[ObjectRef] = set()
    if row is not None:
        refs.update(ObjectRef("page", c) for c in children_in(snap, ref))
        if row.parent_id is not None:
            parent = ObjectRef("page", row.parent_id)
            refs.add(parent)
            refs.update(ObjectRef("page", s) for s in children_in(snap, parent))
    for block in snap.list_blocks("pages"):
        data = block.data
        if (data.get("mode") or "children") == "selection":
            if ref.id in _ids(data.get("pages")):
                refs.add(block.owner)
        elif row is not None and row.parent_id is not None:
            listed_parent = data.get("page") or (block.owner.id if block.owner.type == "page" else None)
            if listed_parent == row.parent_id:
                refs.add(block.owner)
    return refs


def _post_references(snap: Snapshot, ref: ObjectRef, website_id: str | None) -> set[ObjectRef]:
    snap.load_content([ref])
    categories = snap.post_categories.get(ref.id, [])
    refs = {ObjectRef("category", c) for c in categories}
    # A category block lists its descendants' posts too: a post in `news/local` may show
    # in a block listing `news`.
    listing_categories = set(categories)
    for c in categories:
        listing_categories.update(ancestors_in(snap, ObjectRef("category", c)))
    for block in snap.list_blocks("posts"):
        data = block.data
        mode = data.get("mode") or "all"
        if mode == "selection":
            hit = ref.id in _ids(data.get("posts"))
        elif mode == "category":
            hit = str(data.get("category") or "") in listing_categories
        else:
            owner = snap.row(block.owner)
            hit = owner is not None and website_id is not None and owner.website_id == website_id
        if hit:
            refs.add(block.owner)
    return refs


def _category_references(snap: Snapshot, ref: ObjectRef, row) -> set[ObjectRef]:
    refs = {ObjectRef("category", c) for c in children_in(snap, ref)}
    refs.update(ObjectRef("post", p) for p in snap.posts_in_categories([ref.id])[ref.id])
    refs.update(ObjectRef("page", p) for p in snap.pages_in_categories([ref.id])[ref.id])
    listing = {ref.id, *ancestors_in(snap, ref)}
    for block in snap.list_blocks("posts"):
        if (block.data.get("mode") or "all") == "category" and str(block.data.get("category") or "") in listing:
            refs.add(block.owner)
    return refs


# ---------------------------------------------------------------------------- public API


def dependencies(session: Session, ref: ObjectRef, *, now: datetime) -> list[ObjectRef]:
    """What `ref` needs to be rendered, direct only, sorted."""
    return dependencies_in(Snapshot(session, now), ref)


def references(session: Session, ref: ObjectRef, *, now: datetime) -> list[ObjectRef]:
    """The objects whose files display `ref`, sorted."""
    return references_in(Snapshot(session, now), ref)


def recursive_dependencies(session: Session, ref: ObjectRef, *, now: datetime,
                           follow_direct: bool = False) -> list[ObjectRef]:
    return recursive_dependencies_in(Snapshot(session, now), ref, follow_direct=follow_direct)


def is_published(session: Session, ref: ObjectRef, *, now: datetime) -> bool:
    return is_published_in(Snapshot(session, now), ref)

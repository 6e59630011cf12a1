"""Shopper pages that look the same for every visitor, rendered once and kept in memory, always fresh.

The catalog, the book pages and the checkout page shell are rendered from the
database once per *pages version* and kept, split at their per-visitor holes,
in this process's memory. Each request fills the holes — the CSRF token of the
forms, the header's cart count, the flash messages, "you already bought this" —
and sends the page. Nothing expires with time:

- The version is one number, read on every request, in the shared cache
  (CACHE_URL, Redis) or in this host's shared memory (PAGE_CACHE_VERSION,
  shop/pagecache_version.py): every process sees a change at once.
- `pages_changed()` bumps it whenever something a page shows changes (a book
  saved or deleted, stock taken or given back): right away, and again when the
  transaction commits, so a page rendered in between from the old rows is never
  served after the commit.
- A page is stored under the version read *before* it was rendered: a render
  racing a change is stored under the old version, which nobody asks for again.

With a per-process cache (the development default) one process's change would
not reach the others, so PAGE_CACHE defaults to off there; if the shared cache
cannot be read, pages are rendered fresh on every request.

Holes are marked in templates with `{% page_hole "<template>" %}` (shop/catalog/
templatetags/page_holes.py) and the CSRF token with a marker in `csrf_token`;
the markers hold a NUL character, which no text from the database can contain.
"""

import logging
import re
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import Context, engines
from django.template.loader import render_to_string

from shop.csrf_tokens import csrf_token
from shop.pagecache_version import PAGES, version_store

logger = logging.getLogger(__name__)

# Pages kept per process; beyond it they are all dropped and rendered again
# (a few hundred pages of 5-20 KB: a few MB per worker).
MAX_PAGES = 300
RECORDING = "page_holes_recording"  # context flag: holes render as markers
CSRF_HOLE = "csrf_token"
HOLE_PATTERN = re.compile("\x00page-hole:([^\x00]+)\x00")

ContextFactory = Callable[[], Mapping]


def hole_marker(name: str) -> str:
    return f"\x00page-hole:{name}\x00"


def pages_version() -> int | None:
    """The current pages version (shop/pagecache_version.py); None when it cannot be read."""
    return version_read(PAGES)


def pages_changed() -> None:
    """Something the cached pages show changed: the next request of every process renders anew."""
    version_changed(PAGES)


def version_read(name: str) -> int | None:
    """Version `name` now; None when it cannot be read (then nothing kept under it may be used)."""
    try:
        return version_store(name).read()
    except Exception:  # any store error: serve fresh reads, never stale ones
        logger.warning("page_cache_unavailable", extra={"version": name}, exc_info=True)
        return None


def version_changed(name: str) -> None:
    """Bump version `name` right away, and again when the transaction commits.

    So a read made in between, from rows about to change, is stored under a
    version nobody asks for once the change is visible.
    """
    _version_bump(name)
    transaction.on_commit(lambda: _version_bump(name))


def _version_bump(name: str) -> None:
    try:
        version_store(name).bump()
    except Exception:
        logger.error("page_cache_not_invalidated", extra={"version": name}, exc_info=True)


class Pages:
    """This process's pages of one version, by key, within a count (and a byte) budget.

    A new version drops the old ones; beyond a budget they are all dropped
    and rendered again. With `max_bytes`, `size_of(page)` counts a page's bytes
    (by default a page is a list of parts: bytes, and hole names).
    """

    def __init__(
        self,
        *,
        max_pages: int = MAX_PAGES,
        max_bytes: int | None = None,
        size_of: Callable[[object], int] = lambda parts: sum(len(part) for part in parts),
    ) -> None:
        self.max_pages, self.max_bytes, self.size_of = max_pages, max_bytes, size_of
        self.version: int | None = None
        self.pages: dict[tuple, object] = {}
        self.size = 0

    def _holds(self, version: int) -> bool:
        """Whether these are `version`'s pages; a newer version drops the older ones (versions only grow)."""
        if self.version is None or version > self.version:
            self.version, self.pages, self.size = version, {}, 0
        return version == self.version

    def get(self, version: int, key: tuple):
        return self.pages.get(key) if self._holds(version) else None

    def put(self, version: int, key: tuple, page) -> None:
        if not self._holds(version):
            return  # read before a change: rendered from rows that may be gone
        size = self.size_of(page) if self.max_bytes is not None else 0
        if len(self.pages) >= self.max_pages or (
            self.max_bytes is not None and self.size + size > self.max_bytes
        ):
            self.pages, self.size = {}, 0
        self.pages[key] = page
        self.size += size


_pages = Pages()
# Pages of one shopper's things (a cart, an order), kept per the state they show:
# many more of them, so bounded in bytes (a 3-book cart page is ~9 KB, a 20-book one ~40 KB).
SHOPPER_PAGES_MAX_BYTES = 2 * 1024 * 1024
_shopper_pages = Pages(max_pages=10_000, max_bytes=SHOPPER_PAGES_MAX_BYTES)


@dataclass
class PageKeep:
    """Set on a request by KeptPageMiddleware (shop/pagecache_middleware.py): keep what this page gives.

    `version` is the pages version the middleware read (None: read it here);
    `parts` and `state` are filled in by page_render: the page as this visitor
    sees it, None where the CSRF token goes, and the `state` it was rendered
    for (None: a page the same for every visitor but for its holes).
    """

    version: int | None = None
    parts: tuple[bytes | None, ...] | None = None
    state: Hashable = None


def page_render(
    request: HttpRequest,
    template_name: str,
    context: ContextFactory,
    *,
    holes: Mapping[str, ContextFactory] | None = None,
    state: Hashable = None,
) -> HttpResponse:
    """The page of `template_name`, from memory when this version has it, with its holes filled.

    `context()` gives the shared part of the context (called only to render);
    `holes` gives, per hole template, the per-visitor context it needs beyond
    the context processors' (called on every request).

    A page that shows one shopper's things (their cart, their order) passes
    `state`: what the view read, for this visitor and access-checked, that
    decides everything `context()` gives (the cart's id and revision, the
    order's row). It is kept under that state as well, so it is only ever
    found by a request whose own read returned the same state, and any change
    to the state is a page not kept yet. KeptPageMiddleware answers such a
    page only when `state` is the visitor's cart state, which it reads itself.
    """
    holes = holes or {}
    keep: PageKeep | None = getattr(request, "page_keep", None)
    version = None
    if settings.PAGE_CACHE:
        version = keep.version if keep is not None and keep.version is not None else pages_version()
    if version is None:
        full = dict(context())
        for hole_context in holes.values():
            full.update(hole_context())
        return render(request, template_name, full)
    key = (template_name, request.scheme, request.get_host(), request.path)
    store = _pages
    if state is not None:
        key, store = (*key, state), _shopper_pages
    parts = store.get(version, key)
    if parts is None:
        recorded = {**context(), RECORDING: True, CSRF_HOLE: hole_marker(CSRF_HOLE)}
        text = HOLE_PATTERN.split(render_to_string(template_name, recorded, request=request))
        # Even items are the page's own bytes, odd ones the names of its holes.
        parts = [part if index % 2 else part.encode() for index, part in enumerate(text)]
        store.put(version, key, parts)
    filled = _filled(parts, request, holes)
    if keep is not None:
        keep.version, keep.parts, keep.state = version, filled, state
    token = csrf_token(request).encode() if None in filled else b""
    return HttpResponse(b"".join(token if part is None else part for part in filled))


def _filled(
    parts: list[bytes | str], request: HttpRequest, holes: Mapping[str, ContextFactory]
) -> tuple[bytes | None, ...]:
    """The page with its holes filled for this request, but for the CSRF token's (None); runs joined."""
    filled: dict[str, bytes] = {}  # each hole once per request
    out: list[bytes | None] = []
    for index, part in enumerate(parts):
        if not index % 2:
            piece = part
        elif part == CSRF_HOLE:
            out.append(None)
            continue
        else:
            if part not in filled:
                filled[part] = _hole_fill(part, request, holes).encode()
            piece = filled[part]
        if out and out[-1] is not None:
            out[-1] += piece
        else:
            out.append(piece)
    return tuple(out)


HoleContext = Callable[[HttpRequest], Mapping]
_hole_contexts: dict[str, HoleContext] = {}
_holes_rendered: dict[tuple, str] = {}
MAX_HOLES_RENDERED = 1000
MEMO_TYPES = (str, int, bool, type(None))


def page_hole_context(template_name: str) -> Callable[[HoleContext], HoleContext]:
    """Register what a hole's template reads, from the request (its app's `ready()` does).

    Such a hole is rendered from that context alone, without the context
    processors, and each distinct context of plain values once per process (a
    cart count of 0, no messages: most visitors).
    """

    def register(function: HoleContext) -> HoleContext:
        _hole_contexts[template_name] = function
        return function

    return register


def _hole_fill(name: str, request: HttpRequest, holes: Mapping[str, ContextFactory]) -> str:
    engine = engines["django"].engine
    if name in holes:
        context = dict(holes[name]())
    elif name in _hole_contexts:
        context = dict(_hole_contexts[name](request))
    else:  # what a RequestContext would hold, without its machinery
        context = {}
        for processor in engine.template_context_processors:
            context.update(processor(request))
        return engine.get_template(name).render(Context(context))
    if not all(isinstance(value, MEMO_TYPES) or value == () for value in context.values()):
        return engine.get_template(name).render(Context(context))
    key = (name, *sorted(context.items()))
    html = _holes_rendered.get(key)
    if html is None:
        if len(_holes_rendered) >= MAX_HOLES_RENDERED:
            _holes_rendered.clear()
        html = _holes_rendered[key] = engine.get_template(name).render(Context(context))
    return html

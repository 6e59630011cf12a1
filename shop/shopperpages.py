"""Pages that show one shopper's things (their cart, their order), kept rendered by exactly what they show.

shop/pagecache.py keeps the pages that are the same for everyone, by path. A
cart page or an order page differs from one shopper to the next, so here the
view reads, on every request, the small *state* that determines what its page
shows — the cart's id and revision, the order's row — and the page is kept
under that state, the URL it was rendered for, and the pages version (which
moves whenever a book changes: a title, price or stock shown on the page).
Each request still fills the page's per-visitor holes (the CSRF token, the
flash messages, the header's count), exactly as pagecache does.

Why this is safe:

- A page is found only under the state the request's own, access-checked read
  returned (its session's cart, the order its key opens): another shopper's
  state is never asked for, so their page is never served.
- Every change moves the state on (a cart change bumps the cart's revision in
  its transaction; any change to an order changes its row) and every book
  change the pages version: the next request looks for a page that does not
  exist yet and renders it. Nothing expires with time.
- The state is read before the page is rendered, so a page rendered while a
  change commits shows that change or a later one, never an older one.

Pages live in this process's memory, up to MAX_BYTES; beyond that they are all
dropped and rendered again. With PAGE_CACHE off (or the shared cache
unreadable), every request renders.
"""

from collections.abc import Callable, Hashable, Mapping

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

# _hole_fill: one way to fill a hole, the same as the pages everyone shares.
from shop.pagecache import CSRF_HOLE, HOLE_PATTERN, RECORDING, _hole_fill, hole_marker, pages_version

MAX_BYTES = 2 * 1024 * 1024  # a 3-book cart page is ~9 KB, one of 20 books ~40 KB

ContextFactory = Callable[[], Mapping]


class _KeptPages:
    """This process's shopper pages of one pages version, within a byte budget."""

    def __init__(self) -> None:
        self.version: int | None = None
        self.pages: dict[tuple, list[bytes | str]] = {}
        self.size = 0

    def get(self, version: int, key: tuple) -> list[bytes | str] | None:
        if version != self.version:
            self.version, self.pages, self.size = version, {}, 0
        return self.pages.get(key)

    def put(self, version: int, key: tuple, parts: list[bytes | str]) -> None:
        if version != self.version:
            return  # a book changed meanwhile
        size = sum(len(part) for part in parts)
        if self.size + size > MAX_BYTES:
            self.pages, self.size = {}, 0
        self.pages[key] = parts
        self.size += size


_kept = _KeptPages()


def shopper_page_render(
    request: HttpRequest,
    template_name: str,
    context: ContextFactory,
    *,
    state: Hashable,
    holes: Mapping[str, ContextFactory] | None = None,
) -> HttpResponse:
    """The page of `template_name` for `state`, from memory when kept, with its holes filled.

    `state` must determine everything `context()` gives (the view read it, for
    this visitor, before); `context()` is called only to render. `holes` gives,
    per hole template, the context it needs (otherwise its registered one,
    shop/pagecache.py).
    """
    holes = holes or {}
    version = pages_version() if settings.PAGE_CACHE else None
    if version is None:
        full = dict(context())
        for hole_context in holes.values():
            full.update(hole_context())
        return render(request, template_name, full)
    key = (template_name, request.scheme, request.get_host(), request.path, state)
    parts = _kept.get(version, key)
    if parts is None:
        recorded = {**context(), RECORDING: True, CSRF_HOLE: hole_marker(CSRF_HOLE)}
        text = HOLE_PATTERN.split(render_to_string(template_name, recorded, request=request))
        # Even items are the page's own bytes, odd ones the names of its holes.
        parts = [part if index % 2 else part.encode() for index, part in enumerate(text)]
        _kept.put(version, key, parts)
    filled: dict[str, bytes] = {}  # each hole once per request (one CSRF token for all the forms)
    for name in parts[1::2]:
        if name not in filled:
            filled[name] = _hole_fill(name, request, holes).encode()
    body = b"".join(filled[part] if index % 2 else part for index, part in enumerate(parts))
    return HttpResponse(body)

"""A page of books as shoppers browse them: 24 a page, in an order they pick, in stock only or not.

`browse_params()` reads ?page=, ?sort= and ?in_stock= from a request. A sort
it does not know falls back to the default; a page that is not a whole number
from 1 up (or has more than MAX_PAGE_DIGITS digits) is Http404, and so is a
page past the last (`browse_fragment()`), so only real pages are rendered and
cached. `BrowseParams.key` names the cached fragment: sort, filter and page.

`browse_fragment()` renders the page's books, its page links and the <head>
links crawlers follow (canonical URL, rel="prev"/"next") into a dict the
views keep in the catalog cache (shop/catalog/cache.py). Links carry only
the parameters that differ from the defaults, so each page has one URL.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import EmptyPage, Paginator
from django.db.models import QuerySet
from django.http import Http404, QueryDict
from django.template.loader import render_to_string

from shop.catalog.models import Book

PAGE_SIZE = 24
MAX_PAGE_DIGITS = 6
SORT_LABELS = {
    "relevance": "Best match",
    "title": "Title",
    "newest": "Newest",
    "price": "Price: low to high",
    "price-desc": "Price: high to low",
}


@dataclass(frozen=True)
class BrowseParams:
    sort: str
    default_sort: str
    in_stock_only: bool = False
    page: int = 1
    extra: tuple[tuple[str, str], ...] = ()  # parameters of the page itself, e.g. the search's q

    @property
    def key(self) -> str:
        return f"{self.sort}:{int(self.in_stock_only)}:{self.page}"

    @property
    def is_default_view(self) -> bool:
        """Neither sorted nor filtered: the version of the list search engines should index."""
        return self.sort == self.default_sort and not self.in_stock_only

    def query_string(self, **changes) -> str:
        """ "?…" for these parameters with `changes`, defaults left out ("" when all are defaults)."""
        params = replace(self, **changes)
        pairs = list(params.extra)
        if params.sort != params.default_sort:
            pairs.append(("sort", params.sort))
        if params.in_stock_only:
            pairs.append(("in_stock", "1"))
        if params.page != 1:
            pairs.append(("page", str(params.page)))
        return f"?{urlencode(pairs)}" if pairs else ""


def browse_params(
    query: QueryDict, *, sorts: Iterable[str], extra: dict[str, str] | None = None
) -> BrowseParams:
    """The browsing parameters of `query`; Http404 for a page number that cannot be one."""
    sorts = list(sorts)
    sort = query.get("sort", "")
    page = query.get("page", "1")
    if not (page.isascii() and page.isdigit() and len(page) <= MAX_PAGE_DIGITS and int(page) >= 1):
        raise Http404("No such page.")
    return BrowseParams(
        sort=sort if sort in sorts else sorts[0],
        default_sort=sorts[0],
        in_stock_only=query.get("in_stock") == "1",
        page=int(page),
        extra=tuple((extra or {}).items()),
    )


def browse_fragment(*, books: QuerySet[Book], params: BrowseParams, path: str) -> dict:
    """The page's rendered books and links; Http404 for a page past the last."""
    paginator = Paginator(books, PAGE_SIZE)
    try:
        page = paginator.page(params.page)
    except EmptyPage as empty:
        raise Http404("No such page.") from empty

    def url(**changes) -> str:
        return f"{path}{params.query_string(**changes)}"

    links = {
        "canonical": f"{settings.SITE_URL}{url()}",
        "prev": url(page=page.previous_page_number()) if page.has_previous() else "",
        "next": url(page=page.next_page_number()) if page.has_next() else "",
    }
    numbers = [
        {"number": number, "url": url(page=number)} if isinstance(number, int) else {"gap": True}
        for number in paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
    ]
    context = {"page": page, "links": links, "numbers": numbers, "count": paginator.count}
    return {
        "count": paginator.count,
        "page_number": page.number,
        "page_count": paginator.num_pages,
        "head": render_to_string("catalog/_browse_head.html", {**context, "index": params.is_default_view}),
        "html": render_to_string("catalog/_browse.html", context),
    }


def browse_controls(*, params: BrowseParams, sorts: Iterable[str]) -> dict:
    """What the sort and filter form shows: the choices, the current ones, the page's own fields."""
    return {
        "sorts": [(sort, SORT_LABELS[sort]) for sort in sorts],
        "sort": params.sort,
        "in_stock_only": params.in_stock_only,
        "hidden": params.extra,
    }

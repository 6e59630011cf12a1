"""Order row versions remembered between requests until any order is written.

The order page answers from a page kept per the order's row version
(`order_row_version`: PostgreSQL's xmin and ctid). Each process remembers the
row versions it read, per *orders version* (shop/pagecache_version.py, like the
pages and carts versions): one number that every write of an order through
Django moves on — a save or delete (signals, apps.py), a queryset's update()
(OrderQuerySet) — right away and again at commit. So a load of an order page
whose order was read under the current version costs no query; any write to
any order makes every process read each order's version once more.

An UPDATE made by hand in SQL is not seen until the next write through Django
or `orders_changed()` (a shell one-liner). Only with PAGE_CACHE on, whose
shared version store every process sees; off, every load reads the row.
"""

from collections.abc import Hashable

from django.conf import settings

from shop.orders.models import ORDERS_VERSION
from shop.orders.selectors import order_row_version
from shop.pagecache import Pages, version_read

_remembered = Pages(max_pages=10_000)  # order number -> row version, per orders version


def order_row_version_remembered(*, number: str) -> Hashable | None:
    """`order_row_version` as of the current orders version: from memory, or one query."""
    version = version_read(ORDERS_VERSION) if settings.PAGE_CACHE else None
    if version is not None:
        row_version = _remembered.get(version, number)
        if row_version is not None:
            return row_version
    row_version = order_row_version(number=number)
    if version is not None and row_version is not None:
        _remembered.put(version, number, row_version)
    return row_version

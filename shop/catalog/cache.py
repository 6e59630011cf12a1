"""The catalog's rendered fragments in Django's cache, keyed by a catalog version.

`catalog_version()` is one value in the default cache; `catalog_changed()`
replaces it when the transaction commits (a book saved or deleted, stock taken
or given back, a price changed), so the next request renders the books anew.
`catalog_fragment()` gives the fragment stored under the current version, or
renders and stores it. A render is keyed by the version read before it, so one
racing a change is stored under a version nobody asks for afterwards.

Every entry, the version too, expires after CATALOG_CACHE_SECONDS: a change
whose bump was lost (the cache down at that moment) shows within that time.
If the cache cannot be read or written, the fragment is rendered fresh and the
error logged; the cache client's own timeouts (CACHE_TIMEOUT_SECONDS) bound
how long a stalled cache can hold a request.
"""

import logging
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

VERSION_KEY = "catalog:version"


def catalog_version() -> str | None:
    """The current catalog version (a new one if none is stored); None when the cache fails."""
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=settings.CATALOG_CACHE_SECONDS)
            version = cache.get(VERSION_KEY)
        return version
    except Exception:  # whatever the configured backend raises (redis-py's errors for Redis)
        logger.warning("catalog_cache_unavailable", exc_info=True)
        return None


def catalog_changed() -> None:
    """Books changed: once the transaction commits, every fragment rendered before is left behind."""
    transaction.on_commit(_version_replace)


def _version_replace() -> None:
    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=settings.CATALOG_CACHE_SECONDS)
    except Exception:  # the old fragments then expire within CATALOG_CACHE_SECONDS
        logger.error("catalog_cache_not_invalidated", exc_info=True)


def catalog_fragment(name: str, render: Callable[[], object]):
    """`render()`'s value for fragment `name`, from the cache under the current catalog version.

    `render` runs only on a miss, outside any cache error handling: what it
    raises (Http404 for a book that is gone) reaches the caller, and is not stored.
    """
    timeout = settings.CATALOG_CACHE_SECONDS
    version = catalog_version() if timeout > 0 else None
    if version is None:
        return render()
    key = f"catalog:{version}:{name}"
    try:
        value = cache.get(key)
    except Exception:
        logger.warning("catalog_cache_unavailable", exc_info=True)
        return render()
    if value is not None:
        return value
    value = render()
    try:
        cache.set(key, value, timeout=timeout)
    except Exception:
        logger.warning("catalog_cache_unavailable", exc_info=True)
    return value

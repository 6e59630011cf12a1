"""Where the kept pages' version numbers live (shop/pagecache.py): the shared cache, or this host's memory.

Each version is named: "pages" (what the kept pages show: books, stock),
"carts" (any shopper's cart or session: shop/cart/shopper.py) and "orders"
(any order: shop/orders/versions.py). Every request
reads one and every change to what it covers bumps it, so the read is on the
hot path of each kept page:

- `CacheVersion` (PAGE_CACHE_VERSION=cache, the default): a key in CACHE_URL
  (Redis). Right for any number of hosts; costs a round trip per request.
- `HostVersion` (PAGE_CACHE_VERSION=host): eight bytes of a memory-mapped file
  (in /dev/shm by default), shared by every process of this host that opens
  it; a read is a memory load. Right only when every process that changes
  books or stock — web, task workers, sync_payments, the admin — runs on this
  host (the single-host deployment in the README): a process elsewhere would
  bump a number nobody reads.

A version only grows, and a fresh start (a flushed cache, a reboot that
empties /dev/shm) starts from the clock in nanoseconds, above any number a
running process may still hold.
"""

import fcntl
import hashlib
import logging
import mmap
import os
import struct
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

VERSION_KEY = "pagecache:version"
SLOT = struct.Struct("<q")


class CacheVersion:
    def __init__(self, key: str = VERSION_KEY) -> None:
        self.key = key

    def read(self) -> int:
        version = cache.get(self.key)
        if version is None:
            cache.add(self.key, time.time_ns(), timeout=None)
            version = cache.get(self.key)
        return version

    def bump(self) -> None:
        try:
            cache.incr(self.key)
        except ValueError:  # no version yet (or flushed): any new number will do
            cache.set(self.key, time.time_ns(), timeout=None)


class HostVersion:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._pid: int | None = None
        self._fd = -1
        self._map: mmap.mmap | None = None

    def _mapped(self) -> mmap.mmap:
        if self._pid != os.getpid():  # first use, or a forked child: a mapping and lock of its own
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            if os.fstat(fd).st_size < SLOT.size:
                os.ftruncate(fd, SLOT.size)  # racing processes both make it 8 zero bytes: no harm
            self._fd, self._map, self._pid = fd, mmap.mmap(fd, SLOT.size), os.getpid()
        return self._map

    def read(self) -> int:
        version = SLOT.unpack_from(self._mapped())[0]
        if version == 0:  # a new file
            self.bump()
            version = SLOT.unpack_from(self._mapped())[0]
        return version

    def bump(self) -> None:
        mapped = self._mapped()
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            version = SLOT.unpack_from(mapped)[0]
            SLOT.pack_into(mapped, 0, version + 1 if version else time.time_ns())
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


def host_version_path(file_setting: str, database: dict) -> Path:
    """PAGE_CACHE_VERSION_FILE, or one file per database in /dev/shm (two shops on a host never share)."""
    if file_setting:
        return Path(file_setting)
    name = "|".join(str(database.get(part) or "") for part in ("HOST", "PORT", "NAME"))
    directory = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    return directory / f"stripe-press-pages-{hashlib.sha256(name.encode()).hexdigest()[:16]}"


_stores: dict[tuple, CacheVersion | HostVersion] = {}


PAGES = "pages"


def version_store(name: str = PAGES) -> CacheVersion | HostVersion:
    """The store of version `name` where PAGE_CACHE_VERSION says; made once per process and configuration."""
    database = settings.DATABASES["default"]
    key = (name, settings.PAGE_CACHE_VERSION, settings.PAGE_CACHE_VERSION_FILE, database.get("NAME"))
    store = _stores.get(key)
    if store is None:
        suffix = "" if name == PAGES else f"-{name}"  # the pages' own key and file as they were
        if settings.PAGE_CACHE_VERSION == "host":
            path = host_version_path(settings.PAGE_CACHE_VERSION_FILE, database)
            store = HostVersion(path.with_name(path.name + suffix))
        else:
            store = CacheVersion(VERSION_KEY + suffix.replace("-", ":"))
        store = _stores[key] = store
    return store

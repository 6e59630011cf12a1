"""Django's Redis cache backend, with one Redis client per connection pool instead of one per call.

Django builds a new `redis.Redis` around the pool for every cache operation;
with redis-py 8 that costs more than the round trip to Redis itself (each
client fills a table of ~170 response callbacks). The client is thread-safe
and the pool it wraps is already shared, so keeping it changes nothing else.
CACHE_URL=redis://… selects this backend (config/settings.py). It also counts in
one round trip (`incr_expiring`).
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class ReusedRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:
                self._pools[index] = self._pool_class.from_url(self._servers[index], **self._pool_options)
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client


class ReusedClientRedisCache(RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = ReusedRedisCacheClient

    def incr_expiring(self, key: str, *, timeout: int) -> int:
        """Add 1 to the counter at `key`, made (at 0, living `timeout` seconds) if missing; its new value.

        One round trip, atomic (MULTI/EXEC), where Django's `add` + `incr`
        take three (`incr` asks first whether the key exists). Used by the
        rate limiter (shop/ratelimit.py).
        """
        key = self.make_and_validate_key(key)
        pipeline = self._cache.get_client(key, write=True).pipeline()
        pipeline.set(key, 0, ex=timeout, nx=True)
        pipeline.incr(key)
        return pipeline.execute()[1]

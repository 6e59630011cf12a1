"""Django's Redis cache backend, with one Redis client per connection pool instead of one per call.

Django builds a new `redis.Redis` around the pool for every cache operation;
with redis-py 8 that costs more than the round trip to Redis itself (each
client fills a table of ~170 response callbacks). The client is thread-safe
and the pool it wraps is already shared, so keeping it changes nothing else.
CACHE_URL=redis://… selects this backend (config/settings.py).
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

"""Django's Redis cache backend, with one Redis client per connection pool instead of one per call.

Django builds a new `redis.Redis` around the pool for every cache operation;
with redis-py 8 that costs more than the round trip to Redis itself (each
client fills a table of ~170 response callbacks). The client is thread-safe
and the pool it wraps is already shared, so keeping it changes nothing else.
CACHE_URL=redis://… selects this backend (config/settings.py). It also counts in
one round trip (`incr_expiring`).
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import NoScriptError


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


# Make the counter (at 0, expiring) if it is missing, then count: one atomic step on the server.
INCR_EXPIRING = """
redis.call('SET', KEYS[1], 0, 'EX', ARGV[1], 'NX')
return redis.call('INCR', KEYS[1])
"""


class ReusedClientRedisCache(RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = ReusedRedisCacheClient
        self._incr_expiring_scripts: dict[int, object] = {}  # per client (one per pool)

    def incr_expiring(self, key: str, *, timeout: int) -> int:
        """Add 1 to the counter at `key`, made (at 0, living `timeout` seconds) if missing; its new value.

        One command, atomic (a Lua script run by EVALSHA, loaded on first
        use), where Django's `add` + `incr` take three round trips (`incr`
        asks first whether the key exists) and a MULTI/EXEC pipeline parses
        four replies. Used by the rate limiter (shop/ratelimit.py), on every
        order page load, so the command goes straight to a pooled connection:
        redis-py 8's client wraps each call in retries and metrics that cost
        more than the round trip. Loading the script (NOSCRIPT: first use, a
        Redis restart or SCRIPT FLUSH) and any error go through the client.
        """
        key = self.make_and_validate_key(key)
        client = self._cache.get_client(key, write=True)
        script = self._incr_expiring_scripts.get(id(client))
        if script is None:
            script = self._incr_expiring_scripts[id(client)] = client.register_script(INCR_EXPIRING)
        pool = client.connection_pool
        connection = pool.get_connection()
        try:
            connection.send_command("EVALSHA", script.sha, 1, key, timeout)
            return connection.read_response()
        except NoScriptError:
            pass  # loaded below, by the client (the connection is fine: a reply was read)
        except BaseException:
            connection.disconnect()  # a reply may be left unread: never hand it to another caller
            raise
        finally:
            pool.release(connection)
        return script(keys=[key], args=[timeout])

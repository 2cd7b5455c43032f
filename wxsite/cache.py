"""The Redis cache backend, keeping one client per connection pool.

Django's backend builds a new ``redis.Redis`` for every cache call, and each one fills a table of about 170
response callbacks, which can cost more than the round trip to Redis. A client over a pool is thread-safe and the
pool follows forks (it reconnects in a new process), so one per pool is enough.

Django makes a cache backend per thread, and each made its own pools: every new thread (a push's sending threads,
a batch at a time) opened a new Redis connection on its first call, and redis-py reads its package metadata for each
new connection. Backends of one configuration share their pools and clients in the process instead.
"""

from __future__ import annotations

import threading

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient

# (servers, options) → (pools by index, clients by pool): shared by the backends of every thread of the process.
_shared: dict[str, tuple[dict, dict]] = {}
_shared_lock = threading.Lock()


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, servers, **options):
        super().__init__(servers, **options)
        with _shared_lock:
            self._pools, self._clients = _shared.setdefault(repr((servers, sorted(options.items()))), ({}, {}))

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)  # Django's own, made on first use
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient

"""The Redis cache backend, keeping one client per connection pool, with ``add_or_get`` on its client.

Django's backend builds a new ``redis.Redis`` for every cache call, and each one fills a table of about 170
response callbacks: on the callback's signature claim that cost more than the round trip to Redis. A client over
a pool is thread-safe and the pool follows forks (it reconnects in a new process), so one per pool is enough.

Django makes a cache backend per thread, and each made its own pools: every new thread (a push's sending threads,
a batch at a time) opened a new Redis connection on its first call, and redis-py reads its package metadata for each
new connection. Backends of one configuration share their pools and clients in the process instead.
"""

from __future__ import annotations

import os
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
        self._own = threading.local()

    def own_client(self):
        """This thread's client on a connection of its own, for the hottest calls: a pooled call takes the connection
        from the pool and checks that it has nothing left to read (three system calls and a lock per command).
        Made again in a forked process; closed with its thread."""
        own = self._own
        if getattr(own, "pid", None) != os.getpid():
            pool = self._get_connection_pool(True)
            single = pool.__class__(connection_class=pool.connection_class, max_connections=1, **pool.connection_kwargs)
            own.client = self._client(connection_pool=single, single_connection_client=True)
            own.pid = os.getpid()
        return own.client

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

    def add_or_get(self, key: str, value, timeout: int):
        """``add_or_get`` in one ``SET NX EX`` on the client (and a ``GET`` when the key is taken), for a key the
        caller builds from fixed ASCII and a digest: Django's ``add`` validates each key character by character
        and looks the client up again, which cost about as much as the round trip. The key and the stored value
        are those ``add`` and ``get`` use, so either API reads what the other wrote."""
        redis_cache = self._cache
        full_key = self.make_key(key)
        try:
            return self._add_or_get(redis_cache, full_key, value, timeout)
        except redis_cache._lib.ConnectionError:
            # A connection the server closed (a restart, an idle timeout) shows on use, where the pool would have
            # checked it first: the client has dropped it, and connects again for the second try.
            return self._add_or_get(redis_cache, full_key, value, timeout)

    @staticmethod
    def _add_or_get(redis_cache, full_key: str, value, timeout: int):
        client = redis_cache.own_client()
        for _ in range(2):
            if client.set(full_key, redis_cache._serializer.dumps(value), nx=True, ex=timeout):
                return value
            seen = client.get(full_key)
            if seen is not None:
                return redis_cache._serializer.loads(seen)
        return None

"""The Redis cache backend keeps one client per connection pool instead of building one per call."""

import threading

import pytest
from django.conf import settings
from django.core.cache import cache

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")


def test_cache_calls_share_one_client():
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is client
    assert cache._cache.get_client() is client  # one server: reads use the writer's pool


def test_the_shared_client_serves_threads_at_once():
    errors = []

    def work(n):
        try:
            for i in range(200):
                key = f"test:shared-client:{n}:{i}"
                assert cache.add(key, i, timeout=30)
                assert not cache.add(key, -1, timeout=30)
                assert cache.get(key) == i
                cache.delete(key)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_threads_backends_share_the_pool_and_reuse_its_connections():
    from django.core.cache import caches

    pools, clients = [], []
    created = cache._cache._get_connection_pool(True)._created_connections

    def work():
        backend = caches["default"]  # Django's backend of this thread
        backend.set("test:shared-pool", 1, timeout=30)
        pools.append(backend._cache._get_connection_pool(True))
        clients.append(backend._cache.get_client(write=True))

    for _round in range(3):
        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len({id(pool) for pool in pools}) == 1 and len({id(client) for client in clients}) == 1
    assert pools[0] is cache._cache._get_connection_pool(True)
    assert pools[0]._created_connections <= created + 4  # the later threads took the first ones' idle connections
    cache.delete("test:shared-pool")

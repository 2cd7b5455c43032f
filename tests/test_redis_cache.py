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


def test_add_or_get_stores_once_and_returns_the_first_value():
    key = "test:add-or-get:first"
    cache.delete(key)
    assert cache.add_or_get(key, "a" * 64, 30) == "a" * 64
    assert cache.add_or_get(key, "b" * 64, 30) == "a" * 64
    assert cache.get(key) == "a" * 64  # the key and value Django's own API uses
    cache.delete(key)


def test_add_or_get_reads_what_add_stored_and_sets_the_expiry():
    key = "test:add-or-get:shared"
    cache.delete(key)
    assert cache.add(key, "from add", timeout=30)
    assert cache.add_or_get(key, "other", 30) == "from add"
    cache.delete(key)
    assert cache.add_or_get(key, "mine", 7) == "mine"
    client = cache._cache.get_client(write=True)
    assert 0 < client.ttl(cache.make_key(key)) <= 7
    cache.delete(key)


def test_own_client_is_one_per_thread_and_made_again_after_a_fork():
    redis_cache = cache._cache
    mine = redis_cache.own_client()
    assert redis_cache.own_client() is mine
    assert mine is not redis_cache.get_client(write=True)
    others = []
    thread = threading.Thread(target=lambda: others.append(redis_cache.own_client()))
    thread.start()
    thread.join()
    assert others[0] is not mine
    redis_cache._own.pid = -1  # as in a child process: the parent's connection is not used there
    assert redis_cache.own_client() is not mine
    assert redis_cache.own_client().ping()


def test_add_or_get_from_threads_at_once_stores_one_value():
    key = "test:add-or-get:race"
    cache.delete(key)
    results, barrier = [], threading.Barrier(8)

    def claim(n):
        barrier.wait()
        results.append(cache.add_or_get(key, f"value {n}", 30))

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1 and results[0] == cache.get(key)
    cache.delete(key)


def test_add_or_get_reconnects_after_the_server_dropped_the_connection():
    own = cache._cache.own_client()
    own.ping()
    cache._cache.get_client(write=True).client_kill_filter(_id=own.client_id())
    key = "test:add-or-get:reconnect"
    cache.delete(key)
    assert cache.add_or_get(key, "after", 30) == "after"
    cache.delete(key)

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

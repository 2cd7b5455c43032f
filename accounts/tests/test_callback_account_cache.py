"""The callback's per-process account cache stays bounded whatever appids the URL carries."""

import secrets

from accounts import selectors
from accounts.selectors import account_for_callback, callback_cache_size


def test_hundred_thousand_random_appids_keep_the_cache_at_its_bound(db, settings, monkeypatch):
    settings.WECHAT_CALLBACK_ACCOUNT_CACHE_SIZE = 1024
    # None of these appids exists; answering the lookup without 100,000 queries keeps the test fast.
    looked_up = []
    monkeypatch.setattr(selectors, "_account_by_appid", lambda appid: looked_up.append(appid))
    for _ in range(100_000):
        assert account_for_callback("wx" + secrets.token_hex(8)) is None
    assert len(looked_up) == 100_000
    assert callback_cache_size() == 1024


def test_random_appids_through_the_database_keep_the_cache_at_its_bound(db, settings):
    settings.WECHAT_CALLBACK_ACCOUNT_CACHE_SIZE = 100
    for _ in range(1000):
        assert account_for_callback("wx" + secrets.token_hex(8)) is None
    assert callback_cache_size() == 100


def test_found_account_is_served_from_the_cache(account, django_assert_num_queries):
    account_for_callback(account.appid)
    with django_assert_num_queries(0):
        assert account_for_callback(account.appid).pk == account.pk


def test_random_appids_evict_the_least_recently_used_entry_first(account, settings):
    settings.WECHAT_CALLBACK_ACCOUNT_CACHE_SIZE = 3
    account_for_callback(account.appid)
    account_for_callback("wx0000000000000001")
    account_for_callback(account.appid)  # used again: now the most recent
    account_for_callback("wx0000000000000002")
    account_for_callback("wx0000000000000003")
    assert account.appid in selectors._callback_cache
    assert "wx0000000000000001" not in selectors._callback_cache


def test_unknown_appid_is_remembered_only_for_the_short_miss_ttl(make_account, settings, monkeypatch):
    settings.WECHAT_CALLBACK_ACCOUNT_MISS_SECONDS = 2
    settings.WECHAT_CALLBACK_ACCOUNT_CACHE_SECONDS = 60
    clock = [1000.0]
    monkeypatch.setattr(selectors.time, "monotonic", lambda: clock[0])
    assert account_for_callback("wx00000000000000aa") is None
    # Another process adds the account: the save signal that clears this process's cache never comes here.
    miss = selectors._callback_cache["wx00000000000000aa"]
    account = make_account(appid="wx00000000000000aa")
    selectors._callback_cache["wx00000000000000aa"] = miss
    assert account_for_callback("wx00000000000000aa") is None
    clock[0] += 2.5
    assert account_for_callback("wx00000000000000aa").pk == account.pk


def test_found_account_expires_after_its_ttl(account, settings, monkeypatch, django_assert_num_queries):
    settings.WECHAT_CALLBACK_ACCOUNT_CACHE_SECONDS = 10
    clock = [1000.0]
    monkeypatch.setattr(selectors.time, "monotonic", lambda: clock[0])
    account_for_callback(account.appid)
    clock[0] += 11
    with django_assert_num_queries(1):
        account_for_callback(account.appid)

"""The callback's per-process account cache: bounded whatever appids the URL carries, dropped when an account changes."""

import secrets
import threading
from collections import OrderedDict

from accounts import selectors
from accounts.selectors import account_for_callback, callback_cache_size
from accounts.services import account_upsert
from conftest import AES_KEY, sample_text
from messaging.inbound.tests.callback_client import post_callback, signed_query


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


def _post(client, account, token: str, msg_id: int, *, mode: str = "plain"):
    xml = sample_text("inbound/msg_text.xml").replace("1234567890123456", str(msg_id))
    return post_callback(client, account, xml, mode=mode, query=signed_query(token))


def test_a_new_token_is_used_by_the_next_callback(client, account, django_capture_on_commit_callbacks):
    assert _post(client, account, account.token, 1).status_code == 200  # the account is cached now
    with django_capture_on_commit_callbacks(execute=True):
        account_upsert(appid=account.appid, name=account.name, secret="sandbox-secret-1", token="renewed")
    assert _post(client, account, "test", 2).status_code == 403
    assert _post(client, account, "renewed", 3).status_code == 200


def test_a_new_aes_key_is_used_by_the_next_callback(client, make_account, django_capture_on_commit_callbacks):
    account = make_account(mode="compatible")
    assert _post(client, account, account.token, 1, mode="compatible").status_code == 200
    other_key = AES_KEY[::-1]
    with django_capture_on_commit_callbacks(execute=True):
        account_upsert(appid=account.appid, name=account.name, secret="sandbox-secret-1", token=account.token, aes_key=other_key)
    # The message is still encrypted with the old key: refused, not decrypted with a key the account no longer has.
    assert _post(client, account, account.token, 2, mode="compatible").status_code == 400
    assert account_for_callback(account.appid).encoding_aes_key == other_key


def test_a_row_cached_while_a_change_commits_is_dropped_at_commit(account, django_capture_on_commit_callbacks):
    account_for_callback(account.appid)
    with django_capture_on_commit_callbacks(execute=True):
        account.token = "renewed"
        account.save()
        # Another thread of this process reads the old row before the change commits.
        stale = selectors._account_by_appid(account.appid)
        stale.token = "test"
        selectors._callback_cache[account.appid] = (float("inf"), stale)
    assert account_for_callback(account.appid).token == "renewed"


def test_a_hit_waits_for_no_lock(account):
    account_for_callback(account.appid)
    found = []
    with selectors._callback_cache_lock:  # held, as by a miss being stored
        thread = threading.Thread(target=lambda: found.append(account_for_callback(account.appid)), daemon=True)
        thread.start()
        thread.join(2)
    assert [a.pk for a in found] == [account.pk]


def test_a_hit_evicted_before_it_moves_to_the_end_is_still_answered(account, monkeypatch):
    account_for_callback(account.appid)

    class EvictedMeanwhile(OrderedDict):
        def move_to_end(self, key, last=True):
            raise KeyError(key)

    monkeypatch.setattr(selectors, "_callback_cache", EvictedMeanwhile(selectors._callback_cache))
    assert account_for_callback(account.appid).pk == account.pk

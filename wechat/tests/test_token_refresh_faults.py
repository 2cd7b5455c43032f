"""The token store while WeChat fails: a failed refresh backs off, and a rejected token is replaced once, never in a loop."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from sandbox.models import SandboxApp, SandboxCall
from sandbox.tests.factories import SandboxFaultFactory
from wechat import errors, tokens
from wechat.gateway import client_for
from wechat.models import AccessToken, ApiCallLog

STABLE = "cgi-bin/stable_token"
TICKET = "cgi-bin/ticket/getticket"


def calls(api=STABLE, **filters):
    return SandboxCall.objects.filter(api=api, **filters).count()


def force_refresh_calls():
    return calls(request_json__force_refresh=True)


def expire_soon(account, kind="access_token", seconds=200):
    AccessToken.objects.filter(account=account, kind=kind).update(expires_at=timezone.now() + timedelta(seconds=seconds))


def expire(account, kind="access_token"):
    AccessToken.objects.filter(account=account, kind=kind).update(expires_at=timezone.now() - timedelta(seconds=1))


def move_wechat_clock(account, seconds):
    app = SandboxApp.objects.get(appid=account.appid)
    SandboxApp.objects.filter(pk=app.pk).update(clock_offset=app.clock_offset + seconds)


def wechat_busy(api=STABLE, **extra):
    return SandboxFaultFactory(api=api, kind="errcode", value=-1, **extra)


# A failed refresh is remembered: readers fail fast instead of calling WeChat again.


def test_readers_after_a_failed_refresh_fail_fast_with_its_errcode_and_meaning(account):
    wechat_busy()
    with pytest.raises(errors.WeChatError) as first:
        tokens.access_token_get(account=account)
    assert first.value.errcode == -1
    for _ in range(5):
        with pytest.raises(errors.WeChatRefreshBackoff) as exc:
            tokens.access_token_get(account=account)
        assert exc.value.errcode == -1 and exc.value.is_transient
        assert exc.value.meaning_zh == "系统繁忙，请稍后重试" and "-1" in str(exc.value)
    assert calls() == 1


def test_a_refresh_that_waited_for_the_lock_rechecks_the_failure_and_does_not_call_wechat(account):
    wechat_busy()
    with pytest.raises(errors.WeChatError):
        tokens.access_token_get(account=account)
    # The locked path, as taken by a reader that read the row before the failure was stored.
    with pytest.raises(errors.WeChatRefreshBackoff):
        tokens.access_token_refresh(account=account)
    assert calls() == 1


def test_a_token_with_time_left_is_still_used_while_refreshes_fail(account):
    value = tokens.access_token_get(account=account)
    expire_soon(account, seconds=200)
    wechat_busy()
    assert tokens.access_token_get(account=account) == value
    assert tokens.access_token_get(account=account) == value
    assert calls(errcode=-1) == 1
    assert "-1" in AccessToken.objects.get(account=account).last_error


def test_a_reader_after_the_backoff_refreshes_successfully(account, settings):
    settings.WECHAT_TOKEN_REFRESH_BACKOFF_SECONDS = 0.5
    wechat_busy(remaining=1)
    with pytest.raises(errors.WeChatError):
        tokens.access_token_get(account=account)
    with pytest.raises(errors.WeChatRefreshBackoff):
        tokens.access_token_get(account=account)
    time.sleep(0.6)
    assert tokens.access_token_get(account=account)
    row = AccessToken.objects.get(account=account)
    assert row.retry_at is None and row.failures == 0 and row.last_error == ""
    assert list(SandboxCall.objects.filter(api=STABLE).order_by("id").values_list("errcode", flat=True)) == [-1, 0]


def test_the_backoff_doubles_with_each_failure_in_a_row_up_to_the_cap(account, settings):
    settings.WECHAT_TOKEN_REFRESH_BACKOFF_SECONDS = 2
    settings.WECHAT_TOKEN_REFRESH_BACKOFF_MAX_SECONDS = 5
    wechat_busy()
    waits = []
    for _ in range(4):
        with pytest.raises(errors.WeChatError):
            tokens.access_token_get(account=account)
        row = AccessToken.objects.get(account=account)
        waits.append(round((row.retry_at - timezone.now()).total_seconds()))
        AccessToken.objects.filter(pk=row.pk).update(retry_at=timezone.now())  # the backoff has passed
    assert waits == [2, 4, 5, 5]
    assert calls() == 4


def test_beat_does_not_call_wechat_for_a_token_backing_off(make_account):
    account = make_account(use_stable_token=False)
    tokens.access_token_get(account=account)
    AccessToken.objects.filter(account=account).update(expires_at=timezone.now() + timedelta(seconds=500))
    wechat_busy("cgi-bin/token")
    assert tokens.tokens_refresh_due() == 0
    assert tokens.tokens_refresh_due() == 0
    assert calls("cgi-bin/token", errcode=-1) == 1


def test_readers_after_a_failed_jsapi_ticket_refresh_fail_fast(account):
    tokens.access_token_get(account=account)
    wechat_busy(TICKET)
    with pytest.raises(errors.WeChatError):
        tokens.jsapi_ticket_get(account=account)
    with pytest.raises(errors.WeChatRefreshBackoff) as exc:
        tokens.jsapi_ticket_get(account=account)
    assert exc.value.errcode == -1
    assert calls(TICKET) == 1


def test_an_operators_force_refresh_is_not_held_back_by_the_backoff(account):
    wechat_busy(remaining=1)
    with pytest.raises(errors.WeChatError):
        tokens.access_token_get(account=account)
    assert tokens.access_token_refresh(account=account, force=True)
    assert tokens.access_token_get(account=account)


# A token WeChat rejects (40001/42001/40014) is replaced once; stable_token's unchanged answer leads to one force_refresh.


def test_a_rejected_token_that_stable_token_hands_back_unchanged_is_force_refreshed_once(account):
    old = tokens.access_token_get(account=account)
    move_wechat_clock(account, 60)  # WeChat allows force_refresh 30 s after the last one
    SandboxFaultFactory(api="cgi-bin/getcallbackip", kind="errcode", value=40001, remaining=1)
    assert client_for(account).callback_ips()
    assert force_refresh_calls() == 1
    assert calls() == 3  # the first fetch, the one that handed the same token back, the force_refresh
    assert AccessToken.objects.get(account=account).value != old


def test_a_second_rejection_after_the_force_refresh_surfaces_as_the_error(account):
    tokens.access_token_get(account=account)
    move_wechat_clock(account, 60)
    SandboxFaultFactory(api="cgi-bin/getcallbackip", kind="errcode", value=40001, remaining=2)
    with pytest.raises(errors.WeChatError) as exc:
        client_for(account).callback_ips()
    assert exc.value.errcode == 40001
    assert ApiCallLog.objects.filter(endpoint="cgi-bin/getcallbackip").count() == 2
    assert force_refresh_calls() == 1


def test_repeated_rejections_never_loop_through_refreshes(account):
    tokens.access_token_get(account=account)
    move_wechat_clock(account, 60)
    SandboxFaultFactory(api="cgi-bin/getcallbackip", kind="errcode", value=40001, remaining=20)
    client = client_for(account)
    outcomes = []
    for _ in range(20):
        try:
            client.callback_ips()
            outcomes.append(0)
        except errors.WeChatError as exc:
            outcomes.append(exc.errcode)
    # The first call is retried once after the force_refresh; later ones meet a token force-refreshed seconds ago.
    assert outcomes == [40001] * 19 + [0]
    assert force_refresh_calls() == 1
    assert calls() == 3
    assert ApiCallLog.objects.filter(endpoint="cgi-bin/getcallbackip").count() == 21


def test_a_rejected_token_that_was_already_replaced_is_not_refreshed_again(account):
    old = tokens.access_token_get(account=account)
    move_wechat_clock(account, 60)
    new = tokens.access_token_reject(account=account, value=old)
    assert new != old
    assert tokens.access_token_reject(account=account, value=old) == new
    assert calls() == 3 and force_refresh_calls() == 1


# Real concurrency: threads on PostgreSQL row locks.


def run_together(n, target):
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        try:
            barrier.wait()
            started = time.monotonic()
            try:
                results[i] = (target(), time.monotonic() - started)
            except Exception as exc:  # collected and asserted by the test
                results[i] = (exc, time.monotonic() - started)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("getter", "kind", "api"),
    [(tokens.access_token_get, "access_token", STABLE), (tokens.jsapi_ticket_get, "jsapi_ticket", TICKET)],
)
def test_concurrent_readers_while_wechat_is_busy_cause_one_refresh_call_and_fail_fast(make_account, getter, kind, api):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (DATABASE_URL)")
    account = make_account()
    tokens.access_token_get(account=account)
    if kind == "jsapi_ticket":
        tokens.jsapi_ticket_get(account=account)
    expire(account, kind)
    before = calls(api)
    # Each call to WeChat takes 300 ms and fails: a chain of refreshes under the row lock would take seconds.
    SandboxFaultFactory(api=api, kind="latency", value=300)
    wechat_busy(api)
    results = run_together(16, lambda: getter(account=account))
    assert all(isinstance(r, errors.WeChatError) and r.errcode == -1 for r, _ in results)
    assert calls(api) - before == 1
    assert max(seconds for _, seconds in results) < 2.5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_rejections_of_one_stable_token_cause_one_force_refresh(make_account):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (DATABASE_URL)")
    account = make_account()
    old = tokens.access_token_get(account=account)
    move_wechat_clock(account, 60)
    results = run_together(16, lambda: tokens.access_token_reject(account=account, value=old))
    values = {value for value, _ in results}
    assert len(values) == 1 and old not in values and None not in values
    assert force_refresh_calls() == 1
    assert calls() == 3

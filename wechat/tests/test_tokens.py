import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from conftest import sample_json
from sandbox.models import SandboxApp, SandboxCall, SandboxCredential
from sandbox.tests.factories import SandboxFaultFactory
from wechat import errors, tokens
from wechat.gateway import client_for
from wechat.models import AccessToken, ApiCallLog


def token_calls(kind="cgi-bin/stable_token"):
    return SandboxCall.objects.filter(api=kind, errcode=0).count()


def move_wechat_clock(app, seconds):
    SandboxApp.objects.filter(pk=app.pk).update(clock_offset=app.clock_offset + seconds)
    app.refresh_from_db()


def test_first_read_fetches_a_stable_token_and_later_reads_reuse_it(account):
    first = tokens.access_token_get(account=account)
    assert tokens.access_token_get(account=account) == first
    assert token_calls() == 1
    row = AccessToken.objects.get(account=account, kind="access_token")
    assert 7100 < row.seconds_left() <= 7200
    assert row.refresh_count == 1


def test_a_token_close_to_expiry_is_refreshed_before_use(account):
    tokens.access_token_get(account=account)
    AccessToken.objects.filter(account=account).update(expires_at=timezone.now() + timedelta(seconds=200))
    tokens.access_token_get(account=account)
    assert AccessToken.objects.get(account=account).seconds_left() > 7000


def test_plain_token_mode_uses_cgi_bin_token(make_account):
    account = make_account(use_stable_token=False)
    tokens.access_token_get(account=account)
    assert token_calls("cgi-bin/token") == 1
    assert token_calls() == 0


def test_api_call_recovers_from_40001_after_the_token_was_replaced_elsewhere(make_account, sandbox_app):
    account = make_account(use_stable_token=False)
    app = SandboxApp.objects.get(appid=account.appid)
    client_for(account).callback_ips()
    # Another party calls /cgi-bin/token: our token works for the 5-minute overlap, then is invalid.
    client_for(account).fetch_token(secret=account.app_secret)
    move_wechat_clock(app, 301)
    stale = AccessToken.objects.get(account=account).value
    assert client_for(account).callback_ips()
    log = ApiCallLog.objects.filter(endpoint="cgi-bin/getcallbackip").order_by("id").values_list("errcode", flat=True)
    assert list(log) == [0, 42001, 0]
    assert AccessToken.objects.get(account=account).value != stale


def test_api_call_recovers_from_40001_when_a_stable_token_was_force_refreshed(account):
    client_for(account).callback_ips()
    stale = AccessToken.objects.get(account=account).value
    move_wechat_clock(SandboxApp.objects.get(appid=account.appid), 60)
    client_for(account).fetch_stable_token(secret=account.app_secret, force_refresh=True)
    assert client_for(account).callback_ips()
    errcodes = ApiCallLog.objects.filter(endpoint="cgi-bin/getcallbackip").order_by("id").values_list("errcode", flat=True)
    assert list(errcodes) == [0, 40001, 0]
    assert AccessToken.objects.get(account=account).value != stale


def test_api_call_recovers_from_42001_when_wechat_says_the_token_expired(account):
    client_for(account).callback_ips()
    move_wechat_clock(SandboxApp.objects.get(appid=account.appid), 7300)
    assert client_for(account).callback_ips()
    errcodes = list(ApiCallLog.objects.filter(endpoint="cgi-bin/getcallbackip").order_by("id").values_list("errcode", flat=True))
    assert errcodes == [0, 42001, 0]


def test_auth_errors_are_retried_only_once(account):
    tokens.access_token_get(account=account)
    SandboxFaultFactory(api="cgi-bin/getcallbackip", kind="errcode", value=40001)
    with pytest.raises(errors.WeChatError) as exc:
        client_for(account).callback_ips()
    assert exc.value.errcode == 40001
    assert ApiCallLog.objects.filter(endpoint="cgi-bin/getcallbackip").count() == 2


def test_invalidation_is_compare_and_set(account):
    old = tokens.access_token_get(account=account)
    move_wechat_clock(SandboxApp.objects.get(appid=account.appid), 60)
    new = tokens.access_token_refresh(account=account, force=True)
    assert not tokens.access_token_invalidate(account=account, value=old)
    assert tokens.access_token_get(account=account) == new


def test_wrong_secret_gives_40125_with_its_meaning_and_stores_nothing(make_account):
    account = make_account()
    SandboxApp.objects.filter(appid=account.appid).update(secret="rotated-in-the-console")
    with pytest.raises(errors.WeChatError) as exc:
        tokens.access_token_get(account=account)
    assert exc.value.errcode == 40125
    assert "AppSecret" in exc.value.meaning_en
    row = AccessToken.objects.get(account=account)
    assert row.value == "" and "40125" in row.last_error


def test_unknown_appid_gives_40013(make_account):
    account = make_account()
    SandboxApp.objects.filter(appid=account.appid).update(appid="wxffffffffffffffff")
    with pytest.raises(errors.WeChatError) as exc:
        tokens.access_token_get(account=account)
    assert exc.value.errcode == 40013


def test_daily_token_quota_gives_45009(make_account):
    account = make_account(use_stable_token=False)
    app = SandboxApp.objects.get(appid=account.appid)
    app.quotas.create(api="cgi-bin/token", day=timezone.now().date(), count=2000, limit=2000)
    with pytest.raises(errors.WeChatError) as exc:
        tokens.access_token_get(account=account)
    assert exc.value.errcode == 45009
    assert exc.value.category == errors.Category.QUOTA


def test_busy_and_timeouts_surface_as_transient_errors(account, settings):
    settings.WECHAT_TOKEN_REFRESH_BACKOFF_SECONDS = 0  # each failure is followed by the next call at once
    SandboxFaultFactory(api="cgi-bin/stable_token", kind="errcode", value=-1, remaining=1)
    with pytest.raises(errors.WeChatError) as exc:
        tokens.access_token_get(account=account)
    assert exc.value.errcode == -1 and exc.value.is_transient
    SandboxFaultFactory(api="cgi-bin/stable_token", kind="timeout_before", remaining=1)
    with pytest.raises(errors.WeChatTimeout) as exc:
        tokens.access_token_get(account=account)
    assert exc.value.is_transient
    assert tokens.access_token_get(account=account)
    assert list(ApiCallLog.objects.order_by("id").values_list("errcode", flat=True)) == [-1, errors.TIMEOUT, 0]


def test_api_call_log_never_holds_the_token_or_secret(account):
    client_for(account).callback_ips()
    token = tokens.access_token_get(account=account)
    for row in ApiCallLog.objects.all():
        text = f"{row.endpoint} {row.errmsg}"
        assert token not in text and account.app_secret not in text


def test_beat_refreshes_tokens_expiring_within_ten_minutes(make_account):
    account = make_account(use_stable_token=False)
    old = tokens.access_token_get(account=account)
    AccessToken.objects.filter(account=account).update(expires_at=timezone.now() + timedelta(seconds=500))
    assert tokens.tokens_refresh_due() == 1
    row = AccessToken.objects.get(account=account)
    assert row.value != old and row.seconds_left() > 7000
    assert tokens.tokens_refresh_due() == 0


def test_beat_picks_up_the_rotated_stable_token_in_its_last_minutes(account):
    old = tokens.access_token_get(account=account)
    app = SandboxApp.objects.get(appid=account.appid)
    # WeChat keeps answering the same stable token until its last 5 minutes.
    move_wechat_clock(app, 7200 - 500)
    AccessToken.objects.filter(account=account).update(expires_at=timezone.now() + timedelta(seconds=500))
    tokens.tokens_refresh_due()
    assert AccessToken.objects.get(account=account).value == old
    move_wechat_clock(app, 250)
    AccessToken.objects.filter(account=account).update(expires_at=timezone.now() + timedelta(seconds=250))
    tokens.tokens_refresh_due()
    row = AccessToken.objects.get(account=account)
    assert row.value != old and row.seconds_left() > 7000


def test_jsapi_ticket_is_stored_centrally(account):
    ticket = tokens.jsapi_ticket_get(account=account)
    assert tokens.jsapi_ticket_get(account=account) == ticket
    assert SandboxCall.objects.filter(api="cgi-bin/ticket/getticket").count() == 1
    assert AccessToken.objects.get(account=account, kind="jsapi_ticket").value == ticket


def test_sandbox_token_call_evicts_the_previous_token_after_the_overlap(account):
    client = client_for(account)
    first = client.fetch_token(secret=account.app_secret)["access_token"]
    second = client.fetch_token(secret=account.app_secret)["access_token"]
    assert first != second
    old = SandboxCredential.objects.get(value=first)
    assert (old.expires_at - timezone.now()).total_seconds() <= 300


def test_sandbox_stable_token_returns_the_same_token_and_is_isolated_from_token(account):
    client = client_for(account)
    a = client.fetch_stable_token(secret=account.app_secret)["access_token"]
    client.fetch_token(secret=account.app_secret)
    b = client.fetch_stable_token(secret=account.app_secret)["access_token"]
    assert a == b
    assert SandboxCredential.objects.get(value=a).revoked_at is None


def test_sandbox_stable_token_force_refresh_needs_30_seconds_between_calls(account):
    client = client_for(account)
    client.fetch_stable_token(secret=account.app_secret)
    with pytest.raises(errors.WeChatError) as exc:
        client.fetch_stable_token(secret=account.app_secret, force_refresh=True)
    assert exc.value.errcode == 45011


def test_sample_token_responses_have_the_shape_the_store_reads():
    for name in ("api/token_response.json", "api/stable_token_response.json"):
        body = sample_json(name)
        assert isinstance(body["access_token"], str) and body["expires_in"] == 7200


def test_every_error_sample_maps_to_a_known_meaning():
    from conftest import SAMPLES

    for path in (SAMPLES / "api" / "errors").glob("*.json"):
        body = sample_json(f"api/errors/{path.name}")
        if body["errcode"] == 0:
            continue
        error = errors.WeChatError(body["errcode"], body["errmsg"])
        assert error.meaning_zh != "未知错误", path.name
        assert str(body["errcode"]) in error.display


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_concurrent_readers_across_an_expiry_cause_exactly_one_refresh(make_account):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (DATABASE_URL)")
    account = make_account()
    tokens.access_token_get(account=account)
    AccessToken.objects.filter(account=account).update(expires_at=timezone.now() + timedelta(seconds=10))
    before = token_calls()
    barrier = threading.Barrier(16)
    seen, failures = [], []

    def reader():
        try:
            barrier.wait()
            for _ in range(5):
                seen.append(tokens.access_token_get(account=account))
        except Exception as exc:  # collected and asserted below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=reader) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    assert token_calls() - before == 1
    assert len(set(seen)) == 1


def test_a_process_reuses_its_last_read_but_never_a_token_it_invalidated(make_account, settings, django_assert_num_queries):
    account = make_account(use_stable_token=False)
    settings.WECHAT_TOKEN_LOCAL_CACHE_SECONDS = 30
    value = tokens.access_token_get(account=account)
    with django_assert_num_queries(0):
        assert tokens.access_token_get(account=account) == value
    tokens.access_token_invalidate(account=account, value=value)
    assert tokens.access_token_get(account=account) != value


def test_a_pool_thread_keeps_an_aged_read_while_its_value_has_time_left(account, settings, django_assert_num_queries):
    settings.WECHAT_TOKEN_LOCAL_CACHE_SECONDS = 30
    value = tokens.access_token_get(account=account)
    key = (account.pk, AccessToken.Kind.ACCESS_TOKEN)
    read, usable_until, _trusted_until = tokens._recent[key]
    assert 7100 - 300 < usable_until - time.monotonic() <= 7200 - 300
    tokens._recent[key] = (read, usable_until, time.monotonic() - 1)  # the process's read has aged out
    with django_assert_num_queries(0), tokens.from_process_cache():
        assert tokens.access_token_get(account=account) == value
    with django_assert_num_queries(1):  # any other thread checks the row again, which renews the read
        assert tokens.access_token_get(account=account) == value
    assert tokens._recent[key][2] > time.monotonic()
    # A read whose value has too little time left is no use even to a pool thread: the row decides.
    tokens._recent[key] = (read, time.monotonic() - 1, time.monotonic() + 30)
    with django_assert_num_queries(1), tokens.from_process_cache():
        assert tokens.access_token_get(account=account) == value


def test_call_log_rows_are_written_in_batches_and_flushed_at_the_end(account, settings):
    from wechat import call_log

    settings.WECHAT_API_CALL_LOG_BATCH = 3
    tokens.access_token_get(account=account)
    call_log.flush()
    before = ApiCallLog.objects.count()
    client = client_for(account)
    client.callback_ips()
    client.callback_ips()
    assert ApiCallLog.objects.count() == before
    client.callback_ips()
    assert ApiCallLog.objects.count() == before + 3
    client.callback_ips()
    assert call_log.flush() == 1
    assert ApiCallLog.objects.count() == before + 4

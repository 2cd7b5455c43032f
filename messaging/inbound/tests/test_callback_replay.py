"""Signed callbacks expire: a timestamp outside the window is refused, and a signature cannot sign a second body."""

import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import cache_clear, sample_text
from followers.models import Follower
from followers.tests.factories import FollowerFactory
from messaging.inbound import services
from messaging.inbound.models import CallbackSignature, InboundMessage
from messaging.inbound.tests.callback_client import post_callback, signed_query
from sandbox import phone
from sandbox.models import SandboxApp

MODES = ["plain", "compatible", "safe"]
DAY = 24 * 3600


def stale_query(token: str, *, age: int) -> dict:
    return signed_query(token, timestamp=str(int(time.time()) - age))


@pytest.mark.parametrize("mode", MODES)
def test_post_older_than_the_window_is_403_and_writes_nothing(client, make_account, mode):
    account = make_account(mode=mode)
    response = post_callback(client, account, sample_text("inbound/msg_text.xml"), query=stale_query(account.token, age=301))
    assert response.status_code == 403
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize("mode", MODES)
def test_post_from_beyond_the_window_in_the_future_is_403_and_writes_nothing(client, make_account, mode):
    account = make_account(mode=mode)
    response = post_callback(client, account, sample_text("inbound/msg_text.xml"), query=stale_query(account.token, age=-302))
    assert response.status_code == 403
    assert not InboundMessage.objects.exists()


def test_post_inside_the_window_is_accepted(client, account):
    response = post_callback(client, account, sample_text("inbound/msg_text.xml"), query=stale_query(account.token, age=290))
    assert response.status_code == 200
    assert InboundMessage.objects.filter(account=account).count() == 1


def test_window_comes_from_the_setting(client, account, settings):
    settings.WECHAT_CALLBACK_TIMESTAMP_WINDOW = 30
    response = post_callback(client, account, sample_text("inbound/msg_text.xml"), query=stale_query(account.token, age=60))
    assert response.status_code == 403
    assert not InboundMessage.objects.exists()


def test_url_verification_older_than_the_window_is_403(client, account):
    response = client.get(account.callback_path, {**stale_query(account.token, age=301), "echostr": "5927782489442352469"})
    assert response.status_code == 403
    assert b"5927782489442352469" not in response.content


@pytest.mark.parametrize("timestamp", ["abc", "1e9", "-1", "9" * 40])
def test_signed_but_unreadable_timestamp_is_403(client, account, timestamp):
    query = signed_query(account.token, timestamp=timestamp)
    response = post_callback(client, account, sample_text("inbound/msg_text.xml"), query=query)
    assert response.status_code == 403
    assert not InboundMessage.objects.exists()


def test_month_old_signature_cannot_unsubscribe_a_follower(client, account, django_capture_on_commit_callbacks):
    FollowerFactory(account=account, openid="FromUser", subscribed=True)
    query = stale_query(account.token, age=30 * DAY)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_callback(client, account, sample_text("inbound/event_unsubscribe.xml"), query=query)
    assert response.status_code == 403
    assert Follower.objects.get(account=account, openid="FromUser").subscribed
    assert not InboundMessage.objects.exists()


def test_stale_timestamp_is_logged_with_the_appid(client, account, caplog):
    with caplog.at_level(logging.WARNING, logger="messaging.views"):
        post_callback(client, account, sample_text("inbound/msg_text.xml"), query=stale_query(account.token, age=3600))
    [record] = [r for r in caplog.records if r.getMessage() == "callback.stale_timestamp"]
    assert record.appid == account.appid
    assert record.window == 300


def test_signature_used_with_another_body_is_403_and_writes_nothing(client, account):
    query = signed_query(account.token)
    first = post_callback(client, account, sample_text("inbound/msg_text.xml"), query=query)
    assert first.status_code == 200
    forged = sample_text("inbound/event_unsubscribe.xml")
    response = post_callback(client, account, forged, query=query)
    assert response.status_code == 403
    assert list(InboundMessage.objects.values_list("msg_type", flat=True)) == ["text"]


def test_signature_in_capitals_counts_as_the_same_signature(client, account):
    query = signed_query(account.token)
    post_callback(client, account, sample_text("inbound/msg_text.xml"), query=query)
    response = post_callback(
        client, account, sample_text("inbound/event_unsubscribe.xml"), query={**query, "signature": query["signature"].upper()}
    )
    assert response.status_code == 403
    assert InboundMessage.objects.count() == 1


def test_same_signature_with_the_same_body_is_answered_from_the_log(client, make_account, django_capture_on_commit_callbacks):
    account = make_account(default_reply_text="first answer")
    query = signed_query(account.token)
    xml = sample_text("inbound/msg_text.xml")
    first = post_callback(client, account, xml, query=query)
    with django_capture_on_commit_callbacks() as retry_callbacks:
        retry = post_callback(client, account, xml, query=query)
    assert retry.status_code == 200
    assert retry.content == first.content
    assert InboundMessage.objects.count() == 1
    assert retry_callbacks == []


def test_signature_claim_is_kept_in_the_database_not_the_cache(client, account):
    query = signed_query(account.token)
    assert post_callback(client, account, sample_text("inbound/msg_text.xml"), query=query).status_code == 200
    cache_clear(cache)
    forged = post_callback(client, account, sample_text("inbound/event_unsubscribe.xml"), query=query)
    assert forged.status_code == 403
    assert InboundMessage.objects.count() == 1


def test_retry_under_a_new_signature_ties_that_signature_to_its_body(client, make_account):
    # WeChat's retry signs the same message again; answered from the log, its signature still cannot sign a forgery.
    account = make_account(default_reply_text="first answer")
    xml = sample_text("inbound/msg_text.xml")
    first = post_callback(client, account, xml)
    retry_query = signed_query(account.token)
    retry = post_callback(client, account, xml, query=retry_query)
    assert retry.status_code == 200 and retry.content == first.content
    forged = post_callback(client, account, sample_text("inbound/event_unsubscribe.xml"), query=retry_query)
    assert forged.status_code == 403
    assert InboundMessage.objects.count() == 1
    assert CallbackSignature.objects.count() == 2


def test_signature_reuse_is_logged_with_the_appid(client, account, caplog):
    query = signed_query(account.token)
    post_callback(client, account, sample_text("inbound/msg_text.xml"), query=query)
    with caplog.at_level(logging.WARNING, logger="messaging.inbound.views"):
        post_callback(client, account, sample_text("inbound/event_unsubscribe.xml"), query=query)
    [record] = [r for r in caplog.records if r.getMessage() == "callback.signature_reused"]
    assert record.appid == account.appid


def test_claim_expires_with_its_timestamp_and_beat_prunes_it(client, account, settings):
    settings.WECHAT_CALLBACK_TIMESTAMP_WINDOW = 300
    query = stale_query(account.token, age=100)
    assert post_callback(client, account, sample_text("inbound/msg_text.xml"), query=query).status_code == 200
    claim = CallbackSignature.objects.get()
    assert claim.expires_at == datetime.fromtimestamp(int(query["timestamp"]) + 301, tz=UTC)
    assert services.callback_signatures_prune() == 0
    CallbackSignature.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert services.callback_signatures_prune() == 1
    assert not CallbackSignature.objects.exists()


def test_encrypted_push_signature_cannot_carry_a_plaintext_body(client, make_account):
    # Compatible mode also takes plaintext: the leaked query of an encrypted push, stripped of
    # encrypt_type, must not sign a forged plaintext body.
    account = make_account(mode="compatible")
    query = signed_query(account.token)
    assert post_callback(client, account, sample_text("inbound/msg_text.xml"), query=query).status_code == 200
    response = post_callback(client, account, sample_text("inbound/event_unsubscribe.xml"), query=query, mode="plain")
    assert response.status_code == 403
    assert InboundMessage.objects.count() == 1


def test_rejected_body_does_not_use_up_the_signature(client, account):
    query = signed_query(account.token)
    assert post_callback(client, account, "<xml><MsgType>text", query=query).status_code == 400
    response = post_callback(client, account, sample_text("inbound/msg_text.xml"), query=query)
    assert response.status_code == 200


def test_simulator_push_is_accepted_when_the_sandbox_clock_is_moved(account, sandbox_app):
    # clock_offset moves WeChat's business clock (48-hour windows, expiries); pushes are signed with the real time.
    SandboxApp.objects.filter(pk=sandbox_app.pk).update(clock_offset=48 * 3600 + 60)
    sandbox_app.refresh_from_db()
    result = phone.follower_sends(sandbox_app, "oOffset", {"MsgType": "text", "Content": "hello"})
    assert result.status == 200
    assert InboundMessage.objects.filter(account=account, openid="oOffset").exists()


def test_simulator_signs_each_push_with_its_own_nonce(account, sandbox_app):
    for text in ("one", "two", "three"):
        assert phone.follower_sends(sandbox_app, "oNonce", {"MsgType": "text", "Content": text}).status == 200
    assert InboundMessage.objects.filter(account=account, openid="oNonce").count() == 3


@pytest.mark.postgres
def test_a_new_message_and_its_claim_are_stored_by_one_statement_on_postgresql(client, account):
    with CaptureQueriesContext(connection) as queries:
        assert post_callback(client, account, sample_text("inbound/msg_text.xml")).status_code == 200
    writes = [q["sql"] for q in queries if CallbackSignature._meta.db_table in q["sql"]]
    assert len(writes) == 1
    assert InboundMessage._meta.db_table in writes[0]
    assert CallbackSignature.objects.count() == 1 and InboundMessage.objects.count() == 1

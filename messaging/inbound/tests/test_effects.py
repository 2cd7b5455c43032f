"""Side effects of inbound messages: each in its own savepoint, a failure recorded and retried by the beat task."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import sample_text
from messaging.inbound import effects
from messaging.inbound.models import InboundEffectFailure, InboundMessage
from messaging.inbound.tasks import inbound_effects_retry_due
from messaging.inbound.tests.callback_client import post_callback
from messaging.kefu import receivers as kefu_receivers
from messaging.kefu.models import Conversation
from wechat.errors import WeChatError


@pytest.fixture
def conversation_fails_once(monkeypatch):
    """The customer-service effect writes its row, then raises the first time it runs."""
    real = kefu_receivers.conversation_record_inbound
    calls = []

    def flaky(*, inbound):
        calls.append(inbound.pk)
        conversation = real(inbound=inbound)
        if len(calls) == 1:
            raise WeChatError(45009, "reach max api daily quota limit")
        return conversation

    monkeypatch.setattr(kefu_receivers, "conversation_record_inbound", flaky)
    return calls


def _receive(client, account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_callback(client, account, sample_text("inbound/msg_text.xml"))
    return InboundMessage.objects.get()


def test_a_failed_effect_is_recorded_and_its_work_rolled_back(
    client, account, conversation_fails_once, django_capture_on_commit_callbacks
):
    inbound = _receive(client, account, django_capture_on_commit_callbacks)
    assert inbound.handled_at is not None
    failure = InboundEffectFailure.objects.get()
    assert (failure.inbound_id, failure.effect, failure.attempts, failure.errcode) == (inbound.pk, "kefu.conversation", 1, 45009)
    assert failure.next_attempt_at > timezone.now()
    assert not Conversation.objects.exists()
    # The other effects ran: the follower was recorded by its own effect.
    assert account.followers.filter(openid=inbound.openid).exists()


def test_a_failed_effect_is_retried_by_the_beat_task_and_applied_once(
    client, account, conversation_fails_once, django_capture_on_commit_callbacks
):
    _receive(client, account, django_capture_on_commit_callbacks)
    assert inbound_effects_retry_due.delay().get() == 0  # not due yet
    InboundEffectFailure.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert inbound_effects_retry_due.delay().get() == 1
    assert inbound_effects_retry_due.delay().get() == 0
    assert len(conversation_fails_once) == 2
    assert not InboundEffectFailure.objects.exists()
    assert Conversation.objects.get(account=account).unread_count == 1


def test_a_failure_that_keeps_failing_backs_off_then_gives_up(client, account, monkeypatch, django_capture_on_commit_callbacks):
    def broken(*, inbound):
        raise RuntimeError("database of record is down")

    monkeypatch.setattr(kefu_receivers, "conversation_record_inbound", broken)
    _receive(client, account, django_capture_on_commit_callbacks)
    delays = []
    for _ in range(effects.MAX_ATTEMPTS - 1):
        InboundEffectFailure.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        before = timezone.now()
        assert effects.effects_retry_due() == 0
        failure = InboundEffectFailure.objects.get()
        if failure.next_attempt_at is not None:
            delays.append((failure.next_attempt_at - before).total_seconds())
    failure = InboundEffectFailure.objects.get()
    assert failure.attempts == effects.MAX_ATTEMPTS
    assert failure.next_attempt_at is None
    assert "database of record is down" in failure.last_error
    assert delays == sorted(delays) and delays[0] < delays[-1]


def test_the_message_log_shows_a_failed_effect_as_a_red_badge(
    admin_client, client, account, conversation_fails_once, django_capture_on_commit_callbacks
):
    _receive(client, account, django_capture_on_commit_callbacks)
    page = admin_client.get("/en/admin/inbound/inboundmessage/").content.decode()
    assert "effect-failed" in page
    assert "kefu.conversation" in page
    assert "errcode 45009" in page


def test_every_app_registers_its_effect_in_order():
    names = [effect.name for effect in effects.effects()]
    assert names == [
        "followers.event",
        "kefu.conversation",
        "autoreply.followups",
        "mass.job_finished",
        "templatemsg.job_finished",
        "qrcodes.scan",
    ]

"""Mass sends whose outcome is unknown (timeout after WeChat took the call, killed worker): never sent twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from messaging.mass import selectors as mass_selectors
from messaging.mass import services as mass
from messaging.mass.models import MassBatch, MassMessage
from messaging.mass.tests.test_mass import deliveries, make_followers, text_message
from sandbox.models import SandboxCall
from sandbox.tests.factories import SandboxFaultFactory
from wechat.api.endpoints import Endpoint

S = MassMessage.Status
B = MassBatch.Status
SENDALL = Endpoint.MASS_SENDALL.path


def each_follower_once(app, ids):
    return sorted(deliveries(app).values_list("openid", flat=True)) == sorted(ids)


def sendall_calls():
    return SandboxCall.objects.filter(api=SENDALL).order_by("id")


def send_with_lost_answers(account, app, capture, n=3):
    """Every answer is lost after WeChat took the call: the first call sends, the retries meet 45065 unseen."""
    ids = make_followers(account, app, n)
    fault = SandboxFaultFactory(app=app, api=SENDALL, kind="timeout_after")
    message = text_message(account)
    with capture(execute=True):
        mass.mass_message_schedule(message=message)
    fault.delete()
    message.refresh_from_db()
    return message, message.batches.get(), ids


def crash_after_the_call(account, app, monkeypatch, n=3):
    """The call succeeds at WeChat, then the worker dies before the batch row records it."""
    ids = make_followers(account, app, n)
    message = text_message(account)
    mass.mass_message_schedule(message=message)  # not captured: the beat does the rest
    assert mass.mass_message_dispatch(message_id=message.pk)
    batch = message.batches.get()

    def killed(*args, **kwargs):
        raise RuntimeError("worker killed")

    with monkeypatch.context() as patched:
        patched.setattr("messaging.mass.services.dispatch._batch_submitted", killed)
        with pytest.raises(RuntimeError):
            mass.mass_batch_send(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == B.SENDING and deliveries(app).count() == n
    return message, batch, ids


def test_timeouts_after_wechat_took_the_call_leave_the_batch_unknown_not_failed(
    account, sandbox_app, django_capture_on_commit_callbacks
):
    message, batch, ids = send_with_lost_answers(account, sandbox_app, django_capture_on_commit_callbacks)

    assert batch.status == B.UNKNOWN
    assert batch.outcome_unknown and batch.errcode == -1001
    assert batch.attempts == mass.MAX_CALLS
    assert {c.request_json["clientmsgid"] for c in sendall_calls()} == {batch.clientmsgid}
    assert message.status == S.SENDING  # still finding out, not failed
    assert each_follower_once(sandbox_app, ids)


def test_resend_of_an_unknown_batch_reuses_its_clientmsgid_and_delivers_once(
    account, sandbox_app, django_capture_on_commit_callbacks
):
    message, batch, ids = send_with_lost_answers(account, sandbox_app, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        done = mass.mass_message_resend(message=message)

    assert done == {"rejected": 0, "same_id": 1, "past_window": 0}
    first_clientmsgid = batch.clientmsgid
    batch.refresh_from_db()
    message.refresh_from_db()
    assert batch.clientmsgid == first_clientmsgid
    assert sendall_calls().last().errcode == 45065
    assert batch.status in MassBatch.OK and batch.msg_id
    assert message.status == S.SENT
    assert message.version == 1
    assert each_follower_once(sandbox_app, ids)


def test_beat_reconciles_an_unknown_batch_with_the_same_clientmsgid(account, sandbox_app, django_capture_on_commit_callbacks):
    message, batch, ids = send_with_lost_answers(account, sandbox_app, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        result = mass.mass_dispatch_due(now=timezone.now() + mass.RECONCILE_EVERY + timedelta(seconds=1))

    assert result["recovered"] == 1
    batch.refresh_from_db()
    message.refresh_from_db()
    # 45065 carried the msg_id; the MASSSENDJOBFINISH that came while the batch was unknown is applied with it.
    assert batch.msg_id == deliveries(sandbox_app, "mass_job").get().msg_id
    assert (batch.status, batch.sent_count) == (B.FINISHED, 3)
    assert {c.request_json["clientmsgid"] for c in sendall_calls()} == {batch.clientmsgid}
    assert message.status == S.SENT
    assert each_follower_once(sandbox_app, ids)


def test_a_rejection_after_a_lost_answer_keeps_the_batch_unknown(account, sandbox_app, django_capture_on_commit_callbacks):
    ids = make_followers(account, sandbox_app, 2)
    SandboxFaultFactory(app=sandbox_app, api=SENDALL, kind="timeout_after", remaining=1)
    SandboxFaultFactory(app=sandbox_app, api=SENDALL, kind="errcode", value=40007, remaining=1)
    message = text_message(account)
    with django_capture_on_commit_callbacks(execute=True):
        mass.mass_message_schedule(message=message)

    batch = message.batches.get()
    message.refresh_from_db()
    assert [c.errcode for c in sendall_calls()] == [0, 40007]
    assert batch.status == B.UNKNOWN  # the first call may have sent it: a new clientmsgid could send it twice
    assert batch.errcode == 40007
    assert message.status == S.SENDING
    with django_capture_on_commit_callbacks(execute=True):
        assert mass.mass_message_resend(message=message)["same_id"] == 1
    assert each_follower_once(sandbox_app, ids)


def test_unknown_batch_past_the_window_is_not_resent_automatically(account, sandbox_app, django_capture_on_commit_callbacks):
    message, batch, ids = send_with_lost_answers(account, sandbox_app, django_capture_on_commit_callbacks)
    later = timezone.now() + MassBatch.SAME_ID_RESEND_WITHIN + timedelta(minutes=1)
    calls = sendall_calls().count()

    with django_capture_on_commit_callbacks(execute=True):
        assert mass.mass_dispatch_due(now=later)["recovered"] == 0

    assert sendall_calls().count() == calls
    batch.refresh_from_db()
    message.refresh_from_db()
    assert batch.status == B.UNKNOWN
    assert message.status == S.FAILED
    assert "24-hour" in message.last_error and "群发记录" in message.last_error
    assert each_follower_once(sandbox_app, ids)


def test_resend_past_the_window_refuses_without_the_explicit_choice(account, sandbox_app, django_capture_on_commit_callbacks):
    message, batch, _ids = send_with_lost_answers(account, sandbox_app, django_capture_on_commit_callbacks)
    MassBatch.objects.filter(pk=batch.pk).update(first_called_at=timezone.now() - MassBatch.CLIENTMSGID_WINDOW)
    mass.mass_dispatch_due()
    message.refresh_from_db()
    calls = sendall_calls().count()

    with pytest.raises(ValidationError) as exc:
        mass.mass_message_resend(message=message)

    assert "群发记录" in exc.value.messages[0]
    batch.refresh_from_db()
    message.refresh_from_db()
    assert (batch.status, message.status, message.version) == (B.UNKNOWN, S.FAILED, 1)
    assert sendall_calls().count() == calls


def test_explicit_resend_past_the_window_uses_a_new_clientmsgid(account, sandbox_app, django_capture_on_commit_callbacks):
    message, batch, _ids = send_with_lost_answers(account, sandbox_app, django_capture_on_commit_callbacks)
    MassBatch.objects.filter(pk=batch.pk).update(first_called_at=timezone.now() - MassBatch.CLIENTMSGID_WINDOW)
    mass.mass_dispatch_due()
    message.refresh_from_db()
    old = batch.clientmsgid

    with django_capture_on_commit_callbacks(execute=True):
        assert mass.mass_message_resend(message=message, past_window=True)["past_window"] == 1

    batch.refresh_from_db()
    message.refresh_from_db()
    assert batch.clientmsgid != old and "v2" in batch.clientmsgid
    assert batch.status in MassBatch.OK
    assert message.events.filter(reason__contains="operator's choice").exists()


def test_worker_killed_between_the_call_and_the_database_write_delivers_once(
    account, sandbox_app, django_capture_on_commit_callbacks, monkeypatch
):
    message, batch, ids = crash_after_the_call(account, sandbox_app, monkeypatch)
    later = timezone.now() + mass.LEASE + timedelta(seconds=1)

    with django_capture_on_commit_callbacks() as enqueued:
        assert mass.mass_dispatch_due(now=later)["recovered"] == 1
    batch.refresh_from_db()
    assert batch.status == B.UNKNOWN and batch.outcome_unknown  # the call may have taken effect
    for callback in enqueued:
        callback()

    batch.refresh_from_db()
    message.refresh_from_db()
    assert [c.errcode for c in sendall_calls()] == [0, 45065]
    assert batch.status in MassBatch.OK
    assert message.status == S.SENT
    assert each_follower_once(sandbox_app, ids)


def test_beat_running_twice_reconciles_once(account, sandbox_app, django_capture_on_commit_callbacks, monkeypatch):
    message, _batch, ids = crash_after_the_call(account, sandbox_app, monkeypatch)
    later = timezone.now() + mass.LEASE + timedelta(seconds=1)

    with django_capture_on_commit_callbacks(execute=True):
        first = mass.mass_dispatch_due(now=later)
        second = mass.mass_dispatch_due(now=later)

    assert first["recovered"] + second["recovered"] == 1
    assert [c.errcode for c in sendall_calls()] == [0, 45065]
    message.refresh_from_db()
    assert message.status == S.SENT
    assert each_follower_once(sandbox_app, ids)


def test_quota_counts_a_send_whose_outcome_is_unknown(make_account, django_capture_on_commit_callbacks):
    from messaging.mass.tests.test_mass import account_app

    account = make_account(account_type="subscription")
    send_with_lost_answers(account, account_app(account), django_capture_on_commit_callbacks, n=2)

    quota = mass_selectors.mass_quota_for(message=text_message(account, title="second"))

    assert quota["remaining_today"] == 0  # WeChat may have counted it: the day's one send may be used

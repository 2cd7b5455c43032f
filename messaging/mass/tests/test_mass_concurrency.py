"""Concurrent dispatchers and senders on PostgreSQL: each message and batch is claimed, and sent, once."""

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from messaging.mass import selectors as mass_selectors
from messaging.mass import services as mass
from messaging.mass.models import MassBatch, MassMessage, MassMessageEvent
from messaging.mass.tests.factories import MassBatchFactory
from messaging.mass.tests.test_mass import make_followers, text_message
from sandbox.models import SandboxCall, SandboxDelivery
from wechat.api import mass as mass_api
from wechat.api.endpoints import Endpoint

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_in_threads(n, fn):
    barrier = threading.Barrier(n)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(fn())
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    return results


def test_concurrent_dispatchers_claim_a_due_message_once(account, sandbox_app):
    make_followers(account, sandbox_app, 3)
    message = text_message(account)
    mass.mass_message_schedule(message=message, at=timezone.now() + timedelta(minutes=2))
    MassMessage.objects.filter(pk=message.pk).update(scheduled_at=timezone.now() - timedelta(seconds=1))

    results = run_in_threads(4, lambda: mass.mass_dispatch_due()["started"])

    assert sum(results) == 1
    assert MassBatch.objects.filter(message=message).count() == 1
    assert MassMessageEvent.objects.filter(message=message, old_status="scheduled", new_status="sending").count() == 1
    assert SandboxCall.objects.filter(api=Endpoint.MASS_SENDALL.path).count() == 1
    assert SandboxDelivery.objects.filter(channel="mass").count() == 3
    message.refresh_from_db()
    assert message.status == "sent"


def test_concurrent_senders_make_one_call_per_batch(account, sandbox_app):
    make_followers(account, sandbox_app, 2)
    message = text_message(account)
    MassMessage.objects.filter(pk=message.pk).update(status="sending", started_at=timezone.now())
    batch = MassBatchFactory(message=message, index=0, clientmsgid=mass.clientmsgid_for(message, 0), recipients=2)

    results = run_in_threads(4, lambda: mass.mass_batch_send(batch_id=batch.pk)["status"])

    assert sorted(results) == ["not_claimed", "not_claimed", "not_claimed", "submitted"]
    assert SandboxCall.objects.filter(api=Endpoint.MASS_SENDALL.path).count() == 1
    assert SandboxDelivery.objects.filter(channel="mass").count() == 2
    batch.refresh_from_db()
    assert batch.attempts == 1


def test_two_overlapping_beat_sweeps_reconcile_a_crashed_batch_once(account, sandbox_app):
    ids = make_followers(account, sandbox_app, 3)
    message = text_message(account)
    MassMessage.objects.filter(pk=message.pk).update(status="sending", started_at=timezone.now())
    batch = MassBatchFactory(message=message, index=0, clientmsgid=mass.clientmsgid_for(message, 0), recipients=3)
    # A worker's call took effect at WeChat, then the worker died before recording it; its lease ran out.
    MassBatch.objects.filter(pk=batch.pk).update(
        status="sending", attempts=1, first_called_at=timezone.now(), lease_until=timezone.now() - timedelta(seconds=1)
    )
    mass_api.mass_send(
        account=account,
        message=mass_selectors.message_value(message),
        target=mass_selectors.batch_target(batch),
        clientmsgid=batch.clientmsgid,
    )

    results = run_in_threads(2, lambda: mass.mass_dispatch_due()["recovered"])

    assert sum(results) == 1
    assert list(SandboxCall.objects.filter(api=Endpoint.MASS_SENDALL.path).values_list("errcode", flat=True)) == [0, 45065]
    assert sorted(SandboxDelivery.objects.filter(channel="mass").values_list("openid", flat=True)) == sorted(ids)
    message.refresh_from_db()
    assert message.status == "sent"


def test_sandbox_answers_two_concurrent_calls_with_one_clientmsgid_with_one_send(account, sandbox_app):
    from conftest import sample_json
    from wechat.errors import WeChatError
    from wechat.gateway import client_for

    ids = make_followers(account, sandbox_app, 3)
    body = sample_json("api/mass_sendall_request_text_to_all.json")
    client_for(account).post("message/mass/speed/get", data={})  # one token for both threads

    def send():
        try:
            return client_for(account).post("message/mass/sendall", data=body)["errcode"]
        except WeChatError as exc:
            return exc.errcode

    assert sorted(run_in_threads(2, send)) == [0, 45065]
    assert sorted(SandboxDelivery.objects.filter(channel="mass").values_list("openid", flat=True)) == sorted(ids)

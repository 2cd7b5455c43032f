import time
from datetime import timedelta

from django.utils import timezone

from conftest import sample_text
from messaging.inbound import services
from messaging.inbound.models import InboundMessage
from messaging.inbound.tests.callback_client import post_callback


def _text_message(n: int) -> str:
    return sample_text("inbound/msg_text.xml").replace("1234567890123456", str(1000 + n))


def _queue_instead_of_eager(monkeypatch):
    from wxsite.celery import app

    requested = []
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setattr("messaging.inbound.tasks.inbound_dispatch_pending.delay", requested.append)
    return requested


def test_a_burst_of_messages_costs_one_sweep_request(client, account, django_capture_on_commit_callbacks, monkeypatch):
    requested = _queue_instead_of_eager(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(5):
            post_callback(client, account, _text_message(n))
    time.sleep(services.DISPATCH_COALESCE_SECONDS + 0.2)
    assert requested == [account.pk]
    assert InboundMessage.objects.filter(handled_at__isnull=True).count() == 5
    assert services.inbound_dispatch_pending(account_id=account.pk) == 5
    assert not InboundMessage.objects.filter(handled_at__isnull=True).exists()


def test_messages_after_a_sent_request_ask_again(client, account, django_capture_on_commit_callbacks, monkeypatch):
    requested = _queue_instead_of_eager(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        post_callback(client, account, _text_message(1))
    time.sleep(services.DISPATCH_COALESCE_SECONDS + 0.2)
    with django_capture_on_commit_callbacks(execute=True):
        post_callback(client, account, _text_message(2))
    time.sleep(services.DISPATCH_COALESCE_SECONDS + 0.2)
    assert requested == [account.pk, account.pk]


def test_side_effects_run_once_even_if_two_sweeps_overlap(client, account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_callback(client, account, _text_message(1))
    assert services.inbound_dispatch_pending(account_id=account.pk) == 0
    assert InboundMessage.objects.get().handled_at is not None


def test_beat_sweeps_messages_whose_request_was_lost(client, account, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(services, "dispatch_request", lambda account_id: None)
    with django_capture_on_commit_callbacks(execute=True):
        post_callback(client, account, _text_message(1))
    assert services.inbound_dispatch_stale() == 0  # too recent to be considered lost
    InboundMessage.objects.update(received_at=timezone.now() - timedelta(minutes=2))
    assert services.inbound_dispatch_stale() == 1
    assert InboundMessage.objects.get().handled_at is not None

import threading
import time
from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone

from conftest import sample_text
from messaging.inbound import services
from messaging.inbound.models import InboundMessage
from messaging.inbound.tests.callback_client import post_callback


def _text_message(n: int) -> str:
    return sample_text("inbound/msg_text.xml").replace("1234567890123456", str(1000 + n))


def _queue_instead_of_eager(monkeypatch, settings):
    from wxsite.celery import app

    # The sweep-request thread sets its flag through its own connection: on SQLite the database cache's table is
    # locked by the test's open transaction, so the flag lives in memory here (shared by threads, as Redis is).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "dispatch-tests"}}
    cache.clear()  # flags of earlier tests, whose account ids SQLite hands out again
    requested = []
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setattr("messaging.inbound.tasks.inbound_dispatch_pending.delay", requested.append)
    return requested


def test_a_burst_of_messages_costs_one_sweep_request(client, account, django_capture_on_commit_callbacks, monkeypatch, settings):
    requested = _queue_instead_of_eager(monkeypatch, settings)
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(5):
            post_callback(client, account, _text_message(n))
    time.sleep(services.DISPATCH_COALESCE_SECONDS + 0.2)
    assert requested == [account.pk]
    assert InboundMessage.objects.filter(handled_at__isnull=True).count() == 5
    assert services.inbound_dispatch_pending(account_id=account.pk) == 5
    assert not InboundMessage.objects.filter(handled_at__isnull=True).exists()


def test_messages_after_the_sweep_started_ask_again(client, account, django_capture_on_commit_callbacks, monkeypatch, settings):
    requested = _queue_instead_of_eager(monkeypatch, settings)
    with django_capture_on_commit_callbacks(execute=True):
        post_callback(client, account, _text_message(1))
    time.sleep(services.DISPATCH_COALESCE_SECONDS + 0.2)
    services.inbound_dispatch_pending(account_id=account.pk)
    with django_capture_on_commit_callbacks(execute=True):
        post_callback(client, account, _text_message(2))
    time.sleep(services.DISPATCH_COALESCE_SECONDS + 0.2)
    assert requested == [account.pk, account.pk]


def test_no_second_request_while_a_sweep_waits_in_the_queue(
    client, account, django_capture_on_commit_callbacks, monkeypatch, settings
):
    requested = _queue_instead_of_eager(monkeypatch, settings)
    for n in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            post_callback(client, account, _text_message(n))
        time.sleep(services.DISPATCH_COALESCE_SECONDS + 0.2)
    # The second window found the flag the first one set (any process would): nothing more was enqueued.
    assert requested == [account.pk]
    assert services.inbound_dispatch_pending(account_id=account.pk) == 2


def test_a_request_the_broker_refused_is_made_again_by_the_next_message(
    client, account, django_capture_on_commit_callbacks, monkeypatch, settings
):
    requested = _queue_instead_of_eager(monkeypatch, settings)

    def refuse(account_id):
        raise ConnectionError("broker down")

    monkeypatch.setattr("messaging.inbound.tasks.inbound_dispatch_pending.delay", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        post_callback(client, account, _text_message(1))
    time.sleep(services.DISPATCH_COALESCE_SECONDS + 0.2)
    monkeypatch.setattr("messaging.inbound.tasks.inbound_dispatch_pending.delay", requested.append)
    with django_capture_on_commit_callbacks(execute=True):
        post_callback(client, account, _text_message(2))
    time.sleep(services.DISPATCH_COALESCE_SECONDS + 0.2)
    assert requested == [account.pk]


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


def test_sweep_requests_reuse_one_thread(client, account, django_capture_on_commit_callbacks, monkeypatch, settings):
    requested = _queue_instead_of_eager(monkeypatch, settings)
    monkeypatch.setattr(services, "_sweep_requests", services._SweepRequests())
    before = threading.active_count()
    sweepers = set()
    for n in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            post_callback(client, account, _text_message(n))
        time.sleep(services.DISPATCH_COALESCE_SECONDS + 0.2)
        sweepers.add(services._sweep_requests.thread)
        services.inbound_dispatch_pending(account_id=account.pk)
    assert requested == [account.pk] * 3
    assert len(sweepers) == 1
    assert sweepers.pop().is_alive()
    assert threading.active_count() == before + 1


def test_a_forked_child_requests_its_sweeps_with_a_thread_of_its_own(monkeypatch, settings):
    monkeypatch.setattr(services, "_sweep_requests", services._SweepRequests())
    parent = services._sweep_requests
    services._sweep_requests_after_fork()
    assert services._sweep_requests is not parent
    assert services._sweep_requests.thread is None


def test_a_request_for_an_account_already_in_the_window_waits_for_no_lock():
    requests = services._SweepRequests()
    requests.accounts.add(7)  # asked for by an earlier message, not yet taken by the thread
    added = threading.Event()
    with requests.lock:  # held, as while the thread takes the window's accounts
        threading.Thread(target=lambda: (requests.add(7), added.set()), daemon=True).start()
        assert added.wait(2)
    assert requests.accounts == {7}
    assert requests.thread is None  # nothing else to do: the window's request will carry it

"""Send APIs under a broker outage and client retries: Idempotency-Key, enqueue failures, beat recovery."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from accounts.tests.factories import TokenFactory
from messaging.mass import services as mass
from messaging.mass.models import IdempotencyKey, MassMessage
from messaging.mass.tasks import idempotency_keys_prune, mass_dispatch_due, mass_message_dispatch
from messaging.mass.tests.test_mass import make_followers
from messaging.mass.tests.test_mass_api import api, url  # noqa: F401
from messaging.templatemsg import tasks as template_tasks
from messaging.templatemsg.models import TemplateMessage
from messaging.templatemsg.services import template_messages_dispatch_stale
from messaging.templatemsg.tests.template_support import (  # noqa: F401
    ORDER_DATA,
    ORDER_TEMPLATE_ID,
    _template_settings,
    add_followers,
    seed_template,
)
from sandbox.models import SandboxCall, SandboxDelivery
from wechat.api.endpoints import Endpoint

SEND_NOW = {"title": "Now", "msgtype": "text", "content": "你好", "audience": "all"}


def _broker_down(*args, **kwargs):
    raise OperationalError("[Errno 111] Connection refused")


def test_send_now_with_the_broker_down_answers_201_and_beat_sends_it_exactly_once(
    api,  # noqa: F811
    account,
    sandbox_app,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    make_followers(account, sandbox_app, 3)
    client = api(accounts=[account])
    with monkeypatch.context() as outage:
        outage.setattr(mass_message_dispatch, "apply_async", _broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            first = client.post(url(account), SEND_NOW, format="json", HTTP_IDEMPOTENCY_KEY="send-1")
        with django_capture_on_commit_callbacks(execute=True):
            retry = client.post(url(account), SEND_NOW, format="json", HTTP_IDEMPOTENCY_KEY="send-1")
    assert first.status_code == 201, first.content
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert MassMessage.objects.count() == 1
    assert not SandboxCall.objects.filter(api=Endpoint.MASS_SENDALL.path).exists()

    for _minute in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            mass_dispatch_due.delay()
    assert SandboxCall.objects.filter(api=Endpoint.MASS_SENDALL.path).count() == 1
    assert SandboxDelivery.objects.filter(channel="mass").count() == 3
    assert MassMessage.objects.get().status == MassMessage.Status.SENT


def test_the_same_key_returns_the_first_answer_and_creates_nothing(api, account, sandbox_app):  # noqa: F811
    client = api(accounts=[account])
    later = {**SEND_NOW, "scheduled_at": (timezone.now() + timedelta(hours=1)).isoformat()}
    first = client.post(url(account), later, format="json", HTTP_IDEMPOTENCY_KEY="k")
    again = client.post(url(account), later, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again["Idempotent-Replayed"] == "true"
    assert MassMessage.objects.count() == 1


def test_the_same_key_with_another_body_is_422_and_creates_nothing(api, account, sandbox_app):  # noqa: F811
    client = api(accounts=[account])
    later = {**SEND_NOW, "scheduled_at": (timezone.now() + timedelta(hours=1)).isoformat()}
    client.post(url(account), later, format="json", HTTP_IDEMPOTENCY_KEY="k")
    other = client.post(url(account), {**later, "content": "另一条"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json()["detail"]
    assert MassMessage.objects.count() == 1


def test_the_same_key_from_another_user_is_422(api, account, sandbox_app):  # noqa: F811
    later = {**SEND_NOW, "scheduled_at": (timezone.now() + timedelta(hours=1)).isoformat()}
    api(accounts=[account]).post(url(account), later, format="json", HTTP_IDEMPOTENCY_KEY="k")
    response = api(accounts=[account]).post(url(account), later, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 422
    assert MassMessage.objects.count() == 1


def test_a_refused_request_keeps_no_key_so_the_corrected_retry_goes_through(api, account, sandbox_app):  # noqa: F811
    client = api(accounts=[account])
    bad = client.post(url(account), {**SEND_NOW, "content": ""}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert bad.status_code == 400
    assert not IdempotencyKey.objects.exists()
    later = {**SEND_NOW, "scheduled_at": (timezone.now() + timedelta(hours=1)).isoformat()}
    assert client.post(url(account), later, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201


def test_keys_are_per_account(api, account, sandbox_app, make_account):  # noqa: F811
    other = make_account(appid="wx00000000000000ff")
    client = api(accounts=[account, other])
    later = {**SEND_NOW, "scheduled_at": (timezone.now() + timedelta(hours=1)).isoformat()}
    assert client.post(url(account), later, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    assert client.post(url(other), later, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    assert MassMessage.objects.count() == 2


def test_an_overlong_key_is_a_clear_400(api, account, sandbox_app):  # noqa: F811
    response = api(accounts=[account]).post(url(account), SEND_NOW, format="json", HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not MassMessage.objects.exists()


def test_a_lost_send_now_enqueue_is_left_due_for_beat(account, monkeypatch, django_capture_on_commit_callbacks):
    message = mass.mass_message_create(account=account, title="t", msgtype="text", content="x", audience="all")
    monkeypatch.setattr(mass_message_dispatch, "apply_async", _broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        mass.mass_message_schedule(message=message)
    due = MassMessage.objects.filter(status=MassMessage.Status.SCHEDULED, scheduled_at__lte=timezone.now())
    assert list(due) == [message]


# Template messages


@pytest.fixture
def template_client(account, sandbox_app):
    from django.contrib.auth.models import Permission, User
    from rest_framework.test import APIClient

    seed_template(sandbox_app, account)
    user = User.objects.create_user("sender")
    user.user_permissions.add(Permission.objects.get(codename="add_templatemessage"))
    account.operators.add(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory(user=user).key}")
    return client


def _template_url(account):
    return f"/api/v1/accounts/{account.appid}/template-messages/"


def test_template_send_with_the_broker_down_answers_201_and_beat_sends_it_once(
    account, sandbox_app, template_client, monkeypatch, django_capture_on_commit_callbacks
):
    openid = add_followers(account, sandbox_app, 1)[0]
    body = {"touser": openid, "template_id": ORDER_TEMPLATE_ID, "data": ORDER_DATA}
    with monkeypatch.context() as outage:
        outage.setattr(template_tasks.template_message_send, "apply_async", _broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            first = template_client.post(_template_url(account), body, format="json", HTTP_IDEMPOTENCY_KEY="t-1")
        retry = template_client.post(_template_url(account), body, format="json", HTTP_IDEMPOTENCY_KEY="t-1")
    assert first.status_code == 201, first.content
    assert (retry.status_code, retry.json()["id"]) == (201, first.json()["id"])
    assert TemplateMessage.objects.count() == 1
    assert template_messages_dispatch_stale() == 0  # within the grace period the first enqueue may still run
    later = timezone.now() + timedelta(minutes=2)
    template_messages_dispatch_stale(now=later)
    template_messages_dispatch_stale(now=later)
    assert SandboxCall.objects.filter(api=Endpoint.TEMPLATE_SEND.path).count() == 1
    assert TemplateMessage.objects.get().status == TemplateMessage.Status.SUCCESS


def test_template_same_key_with_another_body_is_422(account, sandbox_app, template_client):
    openid = add_followers(account, sandbox_app, 1)[0]
    body = {"touser": openid, "template_id": ORDER_TEMPLATE_ID, "data": ORDER_DATA}
    template_client.post(_template_url(account), body, format="json", HTTP_IDEMPOTENCY_KEY="t")
    other = template_client.post(
        _template_url(account), {**body, "url": "https://example.com/"}, format="json", HTTP_IDEMPOTENCY_KEY="t"
    )
    assert other.status_code == 422
    assert TemplateMessage.objects.count() == 1


def test_keys_past_their_retention_are_pruned_by_beat_and_newer_ones_kept(api, account, sandbox_app, settings):  # noqa: F811
    settings.API_IDEMPOTENCY_KEY_DAYS = 7
    client = api(accounts=[account])
    later = {**SEND_NOW, "scheduled_at": (timezone.now() + timedelta(hours=1)).isoformat()}
    client.post(url(account), later, format="json", HTTP_IDEMPOTENCY_KEY="old")
    client.post(url(account), {**later, "title": "newer"}, format="json", HTTP_IDEMPOTENCY_KEY="new")
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(days=8))

    assert idempotency_keys_prune.delay().get() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]

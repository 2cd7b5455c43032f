"""REST API for mass sends: create and schedule, validation, status, cancel, account scoping."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import TokenFactory
from messaging.mass.models import MassMessage
from messaging.mass.tests.test_mass import make_followers, make_tag, openid
from sandbox.models import SandboxDelivery


@pytest.fixture
def api(db):
    def make(*, accounts=(), superuser=False):
        user = get_user_model().objects.create_user(f"api{get_user_model().objects.count()}", is_superuser=superuser)
        user.user_permissions.add(
            *Permission.objects.filter(
                content_type__app_label="mass", codename__in=["view_massmessage", "add_massmessage", "change_massmessage"]
            )
        )
        for account in accounts:
            account.operators.add(user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory(user=user).key}")
        return client

    return make


def url(account, pk=None, suffix=""):
    base = f"/api/v1/accounts/{account.appid}/mass-messages/"
    return base + (f"{pk}/" if pk else "") + suffix


def test_create_and_send_now_then_read_the_status(api, account, sandbox_app, django_capture_on_commit_callbacks):
    tag = make_tag(account, wechat_id=101)
    make_followers(account, sandbox_app, 3, tag=tag)
    client = api(accounts=[account])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url(account),
            {"title": "API send", "msgtype": "text", "content": "你好", "audience": "tag", "tag_id": 101},
            format="json",
        )
    assert response.status_code == 201, response.json()
    detail = client.get(url(account, response.json()["id"])).json()
    assert detail["status"] == "sent"
    assert detail["tag_id"] == 101
    assert detail["totals"]["sent"] == 3
    assert detail["batches"][0]["status"] == "finished"
    assert SandboxDelivery.objects.filter(channel="mass").count() == 3
    listing = client.get(url(account)).json()
    assert [m["id"] for m in listing] == [detail["id"]]


def test_create_scheduled_then_cancel(api, account, sandbox_app):
    client = api(accounts=[account])
    at = (timezone.now() + timedelta(hours=2)).isoformat()
    response = client.post(
        url(account),
        {
            "title": "Later",
            "msgtype": "text",
            "content": "hi",
            "audience": "openids",
            "openids": [openid(1), openid(2)],
            "scheduled_at": at,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "scheduled"
    assert body["openid_count"] == 2
    cancelled = client.post(url(account, body["id"], "cancel/"), {"reason": "changed plans"}, format="json")
    assert cancelled.json()["status"] == "cancelled"
    again = client.post(url(account, body["id"], "cancel/"), format="json")
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"msgtype": "text", "content": "", "audience": "all"}, "content"),
        ({"msgtype": "fax", "audience": "all"}, "msgtype"),
        ({"msgtype": "text", "content": "x", "audience": "tag", "tag_id": 9999}, "tag_id"),
        ({"msgtype": "text", "content": "x", "audience": "openids", "openids": ["bad id!", openid(3)]}, "openids"),
        ({"msgtype": "mpnews", "audience": "all"}, "media_id"),
        ({"msgtype": "text", "content": "x", "audience": "all", "scheduled_at": "2001-01-01T00:00:00Z"}, "scheduled_at"),
    ],
)
def test_bad_input_is_400_with_a_clear_message_and_saves_nothing(api, account, body, field):
    response = api(accounts=[account]).post(url(account), {"title": "t", **body}, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not MassMessage.objects.exists()


def test_other_accounts_are_404(api, account, make_account):
    other = make_account(appid="wx00000000000000ff")
    client = api(accounts=[account])
    assert client.get(url(other)).status_code == 404
    assert (
        client.post(url(other), {"title": "t", "msgtype": "text", "content": "x", "audience": "all"}, format="json").status_code
        == 404
    )


def test_anonymous_is_refused(account):
    assert APIClient().get(url(account)).status_code in (401, 403)

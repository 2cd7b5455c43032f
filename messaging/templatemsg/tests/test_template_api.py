"""REST: POST/GET /api/v1/accounts/<appid>/template-messages/."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from rest_framework.test import APIClient

from accounts.tests.factories import TokenFactory
from messaging.templatemsg.models import TemplateMessage
from messaging.templatemsg.tests.factories import TemplateMessageFactory
from sandbox.models import SandboxDelivery

from .template_support import ORDER_DATA, ORDER_TEMPLATE_ID, _template_settings, add_followers, seed_template  # noqa: F401


@pytest.fixture
def setup(account, sandbox_app):
    seed_template(sandbox_app, account)
    return add_followers(account, sandbox_app, 1)[0]


def api_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory(user=user).key}")
    return client


@pytest.fixture
def operator(account):
    user = User.objects.create_user("operator", password="x")
    user.user_permissions.add(
        Permission.objects.get(codename="add_templatemessage"), Permission.objects.get(codename="view_templatemessage")
    )
    account.operators.add(user)
    return user


def url(account, pk=None):
    base = f"/api/v1/accounts/{account.appid}/template-messages/"
    return f"{base}{pk}/" if pk else base


def body(openid, **extra):
    return {"touser": openid, "template_id": ORDER_TEMPLATE_ID, "data": ORDER_DATA, **extra}


def test_create_sends_and_returns_the_record_then_get_shows_its_status(
    account, setup, operator, django_capture_on_commit_callbacks
):
    client = api_client(operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url(account),
            body(
                setup,
                url="https://example.com/o/1",
                miniprogram={"appid": "wxmini", "pagepath": "pages/index"},
                client_msg_id="order-1",
            ),
            format="json",
        )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == "queued"
    assert created["client_msg_id"] == "order-1"
    assert created["miniprogram"] == {"appid": "wxmini", "pagepath": "pages/index"}

    detail = client.get(url(account, created["id"]))
    assert detail.status_code == 200
    assert detail.json()["status"] == "success"
    assert detail.json()["msgid"]
    assert SandboxDelivery.objects.filter(channel="template", openid=setup).count() == 1


def test_reposting_the_same_client_msg_id_returns_the_first_record_and_sends_once(
    account, setup, operator, django_capture_on_commit_callbacks
):
    client = api_client(operator)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url(account), body(setup, client_msg_id="order-2"), format="json")
        again = client.post(url(account), body(setup, client_msg_id="order-2"), format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert TemplateMessage.objects.count() == 1
    assert SandboxDelivery.objects.filter(channel="template").count() == 1


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"data": {"thing1": {"value": "巧克力"}}}, "data", "amount2: 缺少内容"),
        ({"data": {**ORDER_DATA, "thing1": {"value": "一" * 21}}}, "data", "最多 20 个字符"),
        ({"data": {**ORDER_DATA, "remark": {"value": "欢迎"}}}, "data", "remark:"),
        ({"template_id": "unknown"}, "template_id", "没有这个模板"),
        ({"url": "not a url"}, "url", "http"),
        ({"client_msg_id": "has spaces in it"}, "client_msg_id", "ASCII"),
        ({"touser": ""}, "touser", ""),
    ],
)
# Without Accept-Language the API answers in the default language, zh-hans.
def test_bad_input_is_a_clear_400_and_stores_nothing(account, setup, operator, change, field, fragment):
    response = api_client(operator).post(url(account), {**body(setup), **change}, format="json")
    assert response.status_code == 400
    assert fragment in " ".join(response.json()[field])
    assert not TemplateMessage.objects.exists()


def test_without_a_token_is_401(account, setup):
    response = APIClient().post(url(account), body(setup), format="json")
    assert response.status_code == 401
    assert not TemplateMessage.objects.exists()


def test_without_the_add_permission_is_403(account, setup):
    user = User.objects.create_user("viewer", password="x")
    account.operators.add(user)
    response = api_client(user).post(url(account), body(setup), format="json")
    assert response.status_code == 403
    assert not TemplateMessage.objects.exists()


def test_an_account_the_user_does_not_manage_is_404(make_account, setup, operator):
    other = make_account(appid="wx00000000000000b2")
    response = api_client(operator).post(url(other), body(setup), format="json")
    assert response.status_code == 404


def test_get_of_another_accounts_message_is_404(account, make_account, setup, operator):
    other = make_account(appid="wx00000000000000b3")
    message = TemplateMessageFactory(account=other, template=None, openid="o", wechat_template_id="t", client_msg_id="c")
    assert api_client(operator).get(url(account, message.pk)).status_code == 404

"""Malformed input to the REST API is a clear 400 that changes nothing, never a 500."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from accounts.tests.factories import TokenFactory
from messaging.mass import services as mass
from messaging.mass.models import MassMessage
from messaging.mass.tests.test_mass import make_tag
from messaging.templatemsg.models import TemplateMessage
from messaging.templatemsg.tests.template_support import _template_settings, seed_template  # noqa: F401


@pytest.fixture
def client(account):
    user = User.objects.create_user("sender")
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_massmessage", "add_templatemessage"]))
    account.operators.add(user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory(user=user).key}")
    return api


def mass_url(account):
    return f"/api/v1/accounts/{account.appid}/mass-messages/"


def filtered(follower_filter):
    return {"title": "t", "msgtype": "text", "content": "x", "audience": "filter", "follower_filter": follower_filter}


@pytest.mark.parametrize(
    "follower_filter",
    [
        pytest.param(["tag", 1], id="a list"),
        pytest.param("tag=1", id="a string"),
        pytest.param({"tag": [1, 2]}, id="tag a list"),
        pytest.param({"tag": "abc"}, id="tag a word"),
        pytest.param({"tag": {"pk": 1}}, id="tag an object"),
        pytest.param({"subscribe_scene": {"a": 1}}, id="scene an object"),
        pytest.param({"subscribed_after": [2024, 1, 1]}, id="date a list"),
        pytest.param({"nickname": "x"}, id="unknown key"),
    ],
)
def test_a_follower_filter_of_the_wrong_type_is_400_and_saves_nothing(client, account, follower_filter):
    response = client.post(mass_url(account), filtered(follower_filter), format="json")
    assert response.status_code == 400, response.content
    assert "follower_filter" in response.json()
    assert not MassMessage.objects.exists()


def test_a_valid_follower_filter_is_stored_with_iso_dates(client, account):
    tag = make_tag(account)
    response = client.post(mass_url(account), filtered({"tag": tag.pk, "subscribed_after": "2024-01-01"}), format="json")
    assert response.status_code == 201, response.content
    assert MassMessage.objects.get().follower_filter == {"tag": tag.pk, "subscribed_after": "2024-01-01"}


def test_the_service_refuses_a_filter_tag_that_is_not_a_number(account):
    with pytest.raises(ValidationError) as caught:
        mass.mass_message_create(
            account=account, title="t", msgtype="text", content="x", audience="filter", follower_filter={"tag": "abc"}
        )
    assert "follower_filter" in caught.value.message_dict
    assert not MassMessage.objects.exists()


def deep(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


@pytest.mark.parametrize("levels", [1_000, 100_000])
def test_json_nested_too_deep_for_the_parser_is_400_on_a_mass_send(client, account, levels):
    response = client.generic("POST", mass_url(account), deep(levels), content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()
    assert not MassMessage.objects.exists()


def test_json_nested_deeper_than_any_field_takes_is_400_on_a_mass_send(client, account):
    body = '{"title": "t", "msgtype": "text", "content": "x", "audience": "all", "follower_filter": ' + deep(100) + "}"
    response = client.generic("POST", mass_url(account), body, content_type="application/json")
    assert response.status_code == 400
    assert not MassMessage.objects.exists()


def test_json_nested_1000_deep_is_400_on_a_template_send(client, account, sandbox_app):
    seed_template(sandbox_app, account)
    url = f"/api/v1/accounts/{account.appid}/template-messages/"
    response = client.generic("POST", url, deep(1_000), content_type="application/json")
    assert response.status_code == 400
    assert not TemplateMessage.objects.exists()


def test_a_json_array_body_to_cancel_is_not_a_500(account):
    user = User.objects.create_user("canceller")
    user.user_permissions.add(Permission.objects.get(codename="change_massmessage"))
    account.operators.add(user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory(user=user).key}")
    message = mass.mass_message_create(account=account, title="t", msgtype="text", content="x", audience="all")
    response = api.generic("POST", f"{mass_url(account)}{message.pk}/cancel/", "[1, 2]", content_type="application/json")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


def test_errors_are_in_chinese_by_default_and_english_on_request(client, account):
    body = {"title": "t", "msgtype": "text", "content": "x", "audience": "tag", "tag_id": 9999}
    chinese = client.post(mass_url(account), body, format="json")
    english = client.post(mass_url(account), body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["tag_id"] == ["No tag with this WeChat tag id on this account."]
    assert chinese.json()["tag_id"] == ["此公众号没有这个微信标签 ID 的标签。"]


def test_a_service_validation_error_is_translated_too(client, account):
    body = {"title": "t", "msgtype": "text", "content": "", "audience": "all"}
    chinese = client.post(mass_url(account), body, format="json")
    english = client.post(mass_url(account), body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert chinese.status_code == english.status_code == 400
    assert english.json()["content"] == ["A text mass send needs some text."]
    assert chinese.json()["content"] != english.json()["content"]

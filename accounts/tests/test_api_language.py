"""Every API error answers in the caller's language: Chinese by default, English for Accept-Language: en."""

import re

import pytest
from django.contrib.auth.models import Permission

from accounts.tests.factories import TokenFactory
from sandbox.tests.factories import SandboxFaultFactory
from wechat.api.endpoints import Endpoint

CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def api(client, db, django_user_model, account):
    user = django_user_model.objects.create_user("operator", password=None, is_staff=True)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="accounts", codename="view_officialaccount"))
    account.operators.add(user)
    account.js_domains = "shop.example.com"
    account.save()
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {TokenFactory(user=user).key}"
    return client


def config_url(account):
    return f"/api/v1/accounts/{account.appid}/jssdk-config/"


@pytest.mark.parametrize(("accept", "chinese"), [(None, True), ("zh-CN,zh;q=0.9", True), ("en-US,en;q=0.9", False)])
def test_a_refused_url_is_explained_in_the_callers_language(api, account, accept, chinese):
    headers = {"HTTP_ACCEPT_LANGUAGE": accept} if accept else {}
    response = api.get(config_url(account), {"url": "ftp://shop.example.com/"}, **headers)
    assert response.status_code == 400
    assert bool(CHINESE.search(response.json()["detail"])) is chinese


@pytest.mark.parametrize(("accept", "chinese"), [(None, True), ("en", False)])
def test_a_wechat_refusal_carries_a_detail_in_the_callers_language(api, account, sandbox_app, accept, chinese):
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.TICKET_GET.path, kind="errcode", value=48001)
    headers = {"HTTP_ACCEPT_LANGUAGE": accept} if accept else {}
    body = api.get(config_url(account), {"url": "https://shop.example.com/"}, **headers).json()
    assert body["errcode"] == 48001 and body["meaning_zh"] and body["meaning_en"]
    meaning = body["meaning_zh"] if chinese else body["meaning_en"]
    assert "48001" in body["detail"] and body["detail"].endswith(meaning)
    assert body["detail"].startswith("微信返回" if chinese else "WeChat answered")


@pytest.mark.parametrize(("accept", "chinese"), [(None, True), ("en", False)])
def test_unauthenticated_and_unknown_accounts_speak_the_same_language(client, db, account, accept, chinese):
    headers = {"HTTP_ACCEPT_LANGUAGE": accept} if accept else {}
    refused = client.get(config_url(account), {"url": "https://shop.example.com/"}, **headers)
    assert refused.status_code == 401
    assert bool(CHINESE.search(refused.json()["detail"])) is chinese

import hashlib

import pytest
from django.contrib.auth.models import Permission

from accounts.tests.factories import TokenFactory
from conftest import sample_json
from sandbox.models import SandboxCall, SandboxCredential
from sandbox.tests.factories import SandboxFaultFactory
from wechat.api.endpoints import Endpoint
from wechat.jssdk import jssdk_nonce, jssdk_signature

VECTOR = sample_json("crypto/jssdk_signature.json")


def test_signature_matches_the_official_vector():
    signature = jssdk_signature(
        ticket=VECTOR["jsapi_ticket"], noncestr=VECTOR["noncestr"], timestamp=VECTOR["timestamp"], url=VECTOR["url"]
    )
    assert signature == VECTOR["signature"]
    assert hashlib.sha1(VECTOR["string1"].encode()).hexdigest() == signature


def test_the_fragment_is_not_signed():
    base = dict(ticket=VECTOR["jsapi_ticket"], noncestr=VECTOR["noncestr"], timestamp=str(VECTOR["timestamp"]))
    assert jssdk_signature(**base, url=VECTOR["url"] + "#/page?x=1") == VECTOR["signature"]
    assert jssdk_signature(**base, url=VECTOR["url"] + "&b=2") != VECTOR["signature"]


def test_nonces_are_alphanumeric_and_random():
    assert jssdk_nonce().isalnum() and len(jssdk_nonce()) == 16 and jssdk_nonce() != jssdk_nonce()


@pytest.fixture
def operator(db, django_user_model, account):
    user = django_user_model.objects.create_user("operator", password=None, is_staff=True)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="accounts", codename="view_officialaccount"))
    account.operators.add(user)
    return user


@pytest.fixture
def api(client, operator):
    token = TokenFactory(user=operator)
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token.key}"
    return client


def config_url(account):
    return f"/api/v1/accounts/{account.appid}/jssdk-config/"


def with_domains(account, domains):
    account.js_domains = domains
    account.save()


def test_config_is_signed_with_the_central_ticket(api, account, sandbox_app):
    with_domains(account, "shop.example.com\n")
    page = "https://shop.example.com/item?id=7&from=menu#top"
    response = api.get(config_url(account), {"url": page, "jsApiList": "updateAppMessageShareData,chooseImage"})
    assert response.status_code == 200, response.content
    body = response.json()
    ticket = SandboxCredential.objects.get(app=sandbox_app, kind="jsapi_ticket").value
    assert body["appId"] == account.appid
    assert body["signature"] == jssdk_signature(
        ticket=ticket, noncestr=body["nonceStr"], timestamp=body["timestamp"], url="https://shop.example.com/item?id=7&from=menu"
    )
    assert body["jsApiList"] == ["updateAppMessageShareData", "chooseImage"]
    api.get(config_url(account), {"url": page})
    assert SandboxCall.objects.filter(api=Endpoint.TICKET_GET.path).count() == 1  # the ticket is reused


def test_a_page_on_another_domain_is_refused(api, account, sandbox_app):
    with_domains(account, "shop.example.com")
    response = api.get(config_url(account), {"url": "https://evil.example.net/shop.example.com"})
    assert response.status_code == 400
    assert "evil.example.net" in response.json()["detail"] and "JS接口安全域名" in response.json()["detail"]
    assert not SandboxCall.objects.filter(api=Endpoint.TICKET_GET.path).exists()


def test_a_domain_with_a_port_must_be_listed_with_it(api, account, sandbox_app):
    with_domains(account, "shop.example.com:8443")
    assert api.get(config_url(account), {"url": "https://shop.example.com:8443/a"}).status_code == 200
    assert api.get(config_url(account), {"url": "https://other.example.com:8443/a"}).status_code == 400


def test_a_missing_or_relative_url_is_refused(api, account):
    with_domains(account, "shop.example.com")
    assert api.get(config_url(account)).status_code == 400
    assert api.get(config_url(account), {"url": "/item"}).status_code == 400


def test_a_user_who_may_not_manage_the_account_gets_404(client, django_user_model, account):
    stranger = django_user_model.objects.create_user("stranger", password=None)
    stranger.user_permissions.add(Permission.objects.get(content_type__app_label="accounts", codename="view_officialaccount"))
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {TokenFactory(user=stranger).key}"
    assert client.get(config_url(account), {"url": "https://shop.example.com/"}).status_code == 404


def test_the_path_without_the_trailing_slash_still_answers(api, account, sandbox_app):
    with_domains(account, "shop.example.com")
    response = api.get(f"/api/v1/accounts/{account.appid}/jssdk-config", {"url": "https://shop.example.com/"})
    assert response.status_code == 200, response.content
    assert response.json()["appId"] == account.appid


def test_anonymous_callers_are_refused(client, account):
    assert client.get(config_url(account), {"url": "https://shop.example.com/"}).status_code == 401


def test_a_ticket_wechat_refuses_is_reported_as_502(api, account, sandbox_app):
    with_domains(account, "shop.example.com")
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.TICKET_GET.path, kind="errcode", value=48001)
    response = api.get(config_url(account), {"url": "https://shop.example.com/"})
    assert response.status_code == 502 and response.json()["errcode"] == 48001

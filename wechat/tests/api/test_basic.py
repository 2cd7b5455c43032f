import pytest

from conftest import sample_json
from sandbox.models import SandboxApp
from wechat import tokens
from wechat.api import basic
from wechat.api.endpoints import Endpoint
from wechat.errors import WeChatError


def shape(sample: dict, account) -> dict:
    """A request sample with the account's appid; the sandbox never records the secret."""
    return {k: (account.appid if k == "appid" else v) for k, v in sample.items() if k != "secret"}


def test_token_fetch_sends_the_documented_query_and_returns_a_grant(account, received):
    grant = basic.token_fetch(account=account)
    assert grant.value and grant.expires_in == 7200
    assert received(Endpoint.TOKEN) == [{"grant_type": "client_credential", "appid": account.appid}]


def test_stable_token_fetch_sends_the_samples_bodies(account, received):
    normal = basic.stable_token_fetch(account=account)
    again = basic.stable_token_fetch(account=account)
    assert normal.value == again.value  # a stable token stays the same until it expires or is forced
    SandboxApp.objects.filter(appid=account.appid).update(clock_offset=60)  # WeChat refuses a force within 30 s
    forced = basic.stable_token_fetch(account=account, force_refresh=True)
    assert forced.value != normal.value
    assert received(Endpoint.STABLE_TOKEN) == [
        shape(sample_json("api/stable_token_request_normal.json"), account),
        shape(sample_json("api/stable_token_request_normal.json"), account),
        shape(sample_json("api/stable_token_request_force_refresh.json"), account),
    ]


def test_a_wrong_secret_is_a_wechat_error(account, sandbox_app):
    SandboxApp.objects.filter(pk=sandbox_app.pk).update(secret="rotated-in-the-console")
    with pytest.raises(WeChatError) as refused:
        basic.token_fetch(account=account)
    assert refused.value.errcode == 40125


def test_jsapi_ticket_fetch_uses_the_given_token(account):
    grant = basic.jsapi_ticket_fetch(account=account, access_token=tokens.access_token_get(account=account))
    assert grant.value and grant.expires_in == 7200

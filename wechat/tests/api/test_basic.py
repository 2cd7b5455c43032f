import pytest

from conftest import sample_json
from sandbox.models import SandboxApp
from wechat import tokens
from wechat.api import basic
from wechat.api.endpoints import Endpoint
from wechat.errors import WeChatError
from wechat.models import ApiCallLog


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


def test_callback_ips_are_a_list_of_addresses(account):
    ips = basic.callback_ips(account=account)
    assert ips and all(isinstance(ip, str) for ip in ips)
    assert set(sample_json("api/getcallbackip_response.json")) >= {"ip_list"}


def test_callback_ips_retry_once_with_a_new_token_after_40001(account, fault):
    tokens.access_token_get(account=account)
    fault(Endpoint.CALLBACK_IP, 40001)
    assert basic.callback_ips(account=account)
    log = ApiCallLog.objects.filter(endpoint=Endpoint.CALLBACK_IP.path).order_by("id").values_list("errcode", flat=True)
    assert list(log) == [40001, 0]


def test_a_second_rejection_is_raised(account, fault):
    tokens.access_token_get(account=account)
    fault(Endpoint.CALLBACK_IP, 42001, times=None)
    with pytest.raises(WeChatError) as rejected:
        basic.callback_ips(account=account)
    assert rejected.value.errcode == 42001
    assert ApiCallLog.objects.filter(endpoint=Endpoint.CALLBACK_IP.path).count() == 2


def test_the_daily_quota_is_a_transient_wechat_error(account, fault):
    fault(Endpoint.CALLBACK_IP, 45009)
    with pytest.raises(WeChatError) as refused:
        basic.callback_ips(account=account)
    assert refused.value.errcode == 45009

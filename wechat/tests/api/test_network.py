import pytest

from conftest import sample_json
from wechat import tokens
from wechat.api import network
from wechat.api.endpoints import Endpoint
from wechat.errors import WeChatError
from wechat.models import ApiCallLog


def test_callback_ips_are_a_list_of_addresses(account):
    ips = network.callback_ips(account=account)
    assert ips and all(isinstance(ip, str) for ip in ips)
    assert set(sample_json("api/getcallbackip_response.json")) >= {"ip_list"}


def test_callback_ips_retry_once_with_a_new_token_after_40001(account, fault):
    tokens.access_token_get(account=account)
    fault(Endpoint.CALLBACK_IP, 40001)
    assert network.callback_ips(account=account)
    log = ApiCallLog.objects.filter(endpoint=Endpoint.CALLBACK_IP.path).order_by("id").values_list("errcode", flat=True)
    assert list(log) == [40001, 0]


def test_a_second_rejection_is_raised(account, fault):
    tokens.access_token_get(account=account)
    fault(Endpoint.CALLBACK_IP, 42001, times=None)
    with pytest.raises(WeChatError) as rejected:
        network.callback_ips(account=account)
    assert rejected.value.errcode == 42001
    assert ApiCallLog.objects.filter(endpoint=Endpoint.CALLBACK_IP.path).count() == 2


def test_the_daily_quota_is_a_transient_wechat_error(account, fault):
    fault(Endpoint.CALLBACK_IP, 45009)
    with pytest.raises(WeChatError) as refused:
        network.callback_ips(account=account)
    assert refused.value.errcode == 45009

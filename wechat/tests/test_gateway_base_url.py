"""The API base URL receives the AppSecret: the gateway sends nothing to a base URL the deployment does not allow."""

import json

import pytest
import requests
from requests.adapters import BaseAdapter

from accounts.models import OfficialAccount
from wechat import tokens, transport
from wechat.errors import BASE_URL_REFUSED, WeChatError
from wechat.gateway import api_base_allowed, client_for
from wechat.models import AccessToken

EVIL_BASE = "https://evil.example/"


class RecordingAdapter(BaseAdapter):
    """Stands in for a server that would answer: records every request and hands out a token."""

    def __init__(self):
        super().__init__()
        self.requests = []

    def send(self, request, **kwargs):
        self.requests.append(request)
        response = requests.Response()
        response.status_code = 200
        response.headers["Content-Type"] = "application/json"
        response._content = json.dumps({"access_token": "token-from-elsewhere", "expires_in": 7200}).encode()
        response.url, response.request = request.url, request
        return response

    def close(self):
        pass


@pytest.fixture
def evil_host():
    session = transport.session()
    adapter = RecordingAdapter()
    session.mount(EVIL_BASE, adapter)
    yield adapter
    session.adapters.pop(EVIL_BASE, None)


def point_at(account, base_url):
    """A row changed behind the application's back (database access, an old release): no validation ran."""
    OfficialAccount.objects.filter(pk=account.pk).update(api_base_url=base_url)
    account.refresh_from_db()


def test_forced_token_refresh_sends_no_secret_to_a_base_url_off_the_allow_list(account, evil_host):
    point_at(account, EVIL_BASE)
    with pytest.raises(WeChatError) as refused:
        tokens.access_token_refresh(account=account, force=True)
    assert evil_host.requests == []
    assert refused.value.errcode == BASE_URL_REFUSED
    assert not AccessToken.objects.filter(account=account, value="token-from-elsewhere").exists()


def test_api_calls_go_nowhere_when_the_base_url_is_off_the_allow_list(account, evil_host):
    tokens.access_token_get(account=account)  # a valid token from the sandbox is stored
    point_at(account, EVIL_BASE)
    with pytest.raises(WeChatError) as refused:
        client_for(account).callback_ips()
    assert evil_host.requests == []
    assert refused.value.errcode == BASE_URL_REFUSED


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/",
        "https://api.weixin.qq.com.evil.example/",
        "https://api.weixin.qq.com@evil.example/",
        "http://api.weixin.qq.com/",
        "https://api.weixin.qq.com:8443/",
        "https://api.weixin.qq.com/?next=https://evil.example/",
        "ftp://api.weixin.qq.com/",
        "http://127.0.0.1:9000/sandbox/",
        "",
    ],
)
def test_lookalikes_of_an_allowed_base_url_are_refused(url):
    assert not api_base_allowed(url)


def test_wechat_and_the_configured_base_urls_are_allowed(settings):
    settings.WECHAT_API_BASE_URL_ALLOWED = ["https://api.weixin.qq.com/", "https://sh.api.weixin.qq.com/"]
    assert api_base_allowed("https://api.weixin.qq.com/")
    assert api_base_allowed("https://API.weixin.qq.com")
    assert api_base_allowed("https://sh.api.weixin.qq.com/")


def test_the_in_process_sandbox_is_refused_when_the_sandbox_is_disabled(settings):
    settings.SANDBOX_ENABLED = False
    assert not api_base_allowed(settings.SANDBOX_API_BASE_URL)
    settings.SANDBOX_ENABLED = True
    assert api_base_allowed(settings.SANDBOX_API_BASE_URL)


def test_a_local_http_sandbox_is_allowed_only_when_the_setting_allows_it(settings):
    settings.WECHAT_API_BASE_URL_ALLOW_LOCAL_SANDBOX = True
    assert api_base_allowed("http://127.0.0.1:9000/sandbox/")
    assert not api_base_allowed("http://10.0.0.5:9000/sandbox/")
    assert not api_base_allowed("http://127.0.0.1:9000/other/")

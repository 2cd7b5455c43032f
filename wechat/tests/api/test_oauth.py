from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from sandbox.models import SandboxOAuthGrant
from wechat.api import oauth
from wechat.api.endpoints import OAUTH_AUTHORIZE_URL, Endpoint
from wechat.errors import WeChatError
from wechat.models import AccessToken


@pytest.fixture
def code(sandbox_app, followers):
    """What the sandbox's consent page hands the browser after the visitor allows a userinfo login."""
    (openid,) = followers(1, unionid="oUnion000000000000000000001")
    grant = SandboxOAuthGrant.objects.create(
        app=sandbox_app, openid=openid, scope="snsapi_userinfo", code="c0de" * 8, code_issued_at=timezone.now()
    )
    return grant.code


def test_authorize_url_is_wechats_page_with_the_fragment(account):
    url = oauth.authorize_url(account=account, redirect_uri="https://shop.example/cb?x=1", scope="snsapi_base", state="s1")
    parts = urlsplit(url)
    assert url.startswith(OAUTH_AUTHORIZE_URL + "?") and parts.fragment == "wechat_redirect"
    assert parse_qs(parts.query) == {
        "appid": [account.appid],
        "redirect_uri": ["https://shop.example/cb?x=1"],
        "response_type": ["code"],
        "scope": ["snsapi_base"],
        "state": ["s1"],
    }


def test_authorize_url_on_another_base(account):
    url = oauth.authorize_url(
        account=account, redirect_uri="https://a/", scope="snsapi_base", state="s", base="/sandbox/connect/oauth2/authorize"
    )
    assert url.startswith("/sandbox/connect/oauth2/authorize?appid=")


def test_code_exchange_refresh_and_userinfo(account, code, received):
    grant = oauth.code_exchange(account=account, code=code)
    assert grant.access_token and grant.refresh_token and grant.expires_in == 7200
    assert grant.scope == "snsapi_userinfo" and not grant.is_snapshotuser
    refreshed = oauth.grant_refresh(account=account, refresh_token=grant.refresh_token)
    assert refreshed.openid == grant.openid
    user = oauth.userinfo(account=account, access_token=refreshed.access_token, openid=grant.openid)
    assert user["openid"] == grant.openid and user["unionid"] == "oUnion000000000000000000001"
    assert oauth.access_token_valid(account=account, access_token=refreshed.access_token, openid=grant.openid)
    assert received(Endpoint.OAUTH_ACCESS_TOKEN) == [{"appid": account.appid, "code": code, "grant_type": "authorization_code"}]
    assert received(Endpoint.OAUTH_USERINFO) == [{"openid": grant.openid, "lang": "zh_CN"}]


def test_a_code_works_once(account, code):
    oauth.code_exchange(account=account, code=code)
    with pytest.raises(WeChatError) as refused:
        oauth.code_exchange(account=account, code=code)
    assert refused.value.errcode == 40163


def test_oauth_calls_never_use_the_accounts_access_token(account, code):
    oauth.code_exchange(account=account, code=code)
    assert not AccessToken.objects.filter(account=account).exclude(value="").exists()


def test_an_invalid_visitor_token_is_not_valid_and_not_retried(account, code, errcodes):
    grant = oauth.code_exchange(account=account, code=code)
    assert not oauth.access_token_valid(account=account, access_token="not-a-token", openid=grant.openid)
    with pytest.raises(WeChatError) as refused:
        oauth.userinfo(account=account, access_token="not-a-token", openid=grant.openid)
    assert refused.value.errcode == 40001
    assert errcodes(Endpoint.OAUTH_USERINFO) == [40001]

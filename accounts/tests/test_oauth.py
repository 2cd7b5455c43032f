from urllib.parse import parse_qs, urlsplit

import pytest

from accounts import oauth
from conftest import sample_json
from followers.models import Follower
from followers.tests.factories import FollowerFactory
from sandbox.models import SandboxApp, SandboxCall, SandboxOAuthGrant
from sandbox.tests.factories import SandboxFollowerFactory
from wechat.api.endpoints import Endpoint
from wechat.errors import WeChatError
from wechat.gateway import client_for

pytestmark = pytest.mark.django_db


def start(client, account, **params):
    return client.get(f"/wechat/{account.appid}/oauth/start", params)


def consent(client, account, *, openid="oVisitor001", decision="allow", snapshot=False, **params):
    """Start a login and answer the sandbox's authorize page. Returns the redirect back to our callback."""
    response = start(client, account, **params)
    assert response.status_code == 302, response.content
    authorize = response["Location"]
    assert authorize.endswith("#wechat_redirect")
    page = authorize.split("#")[0]
    assert client.get(page).status_code == 200
    form = {"openid": openid, "decision": decision}
    if snapshot:
        form["snapshot"] = "1"
    back = client.get(page, {**query(page), **form})
    assert back.status_code == 302
    return back["Location"]


def query(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def visitor(client, account):
    return client.session.get(oauth.VISITOR_SESSION_KEY, {}).get(account.appid)


def test_a_silent_login_links_the_follower_and_returns_to_next(client, account, sandbox_app):
    SandboxFollowerFactory(app=sandbox_app, openid="oFollower01", unionid="uUnion01")
    FollowerFactory(account=account, openid="oFollower01", subscribed=True)
    callback = consent(client, account, openid="oFollower01", next=f"/wechat/{account.appid}/oauth/me")
    assert urlsplit(callback).path == f"/wechat/{account.appid}/oauth/callback"
    response = client.get(callback)
    assert response.status_code == 302 and response["Location"] == f"/wechat/{account.appid}/oauth/me"
    assert visitor(client, account)["openid"] == "oFollower01"
    follower = Follower.objects.get(openid="oFollower01")
    assert follower.subscribed and follower.unionid == "uUnion01"
    page = client.get(response["Location"])
    assert "oFollower01" in page.content.decode()


def test_a_visitor_wechat_knows_nothing_else_about_is_not_marked_subscribed(client, account, sandbox_app):
    client.get(consent(client, account, openid="oStranger01"))
    assert Follower.objects.get(openid="oStranger01").subscribed is False


def test_userinfo_scope_keeps_the_nickname_in_the_session_only(client, account, sandbox_app):
    client.get(consent(client, account, openid="oVisitor1234", scope="snsapi_userinfo"))
    assert visitor(client, account)["nickname"] == "微信用户1234"
    assert SandboxCall.objects.filter(api=Endpoint.OAUTH_USERINFO.path, errcode=0).count() == 1
    assert "微信用户1234" in client.get(f"/wechat/{account.appid}/oauth/me").content.decode()


def test_the_session_key_changes_at_login(client, account, sandbox_app):
    callback = consent(client, account)
    before = client.session.session_key
    client.get(callback)
    assert client.session.session_key != before


def test_a_real_account_is_sent_to_wechats_authorize_url(client, make_account):
    account = make_account(js_domains="testserver\nwww.example.com")
    type(account).objects.filter(pk=account.pk).update(api_base_url="")
    response = start(client, account, scope="snsapi_userinfo")
    location = response["Location"]
    assert location.startswith("https://open.weixin.qq.com/connect/oauth2/authorize?")
    assert location.endswith("#wechat_redirect")
    params = query(location.split("#")[0])
    assert params["appid"] == account.appid and params["response_type"] == "code" and params["scope"] == "snsapi_userinfo"
    assert params["redirect_uri"] == f"http://testserver/wechat/{account.appid}/oauth/callback"
    assert params["state"].isalnum() and len(params["state"]) <= 128
    assert params["state"] in client.session[oauth.STATE_SESSION_KEY]


def test_a_real_account_refuses_a_domain_not_configured(client, make_account):
    account = make_account(js_domains="www.example.com")
    type(account).objects.filter(pk=account.pk).update(api_base_url="")
    response = start(client, account)
    assert response.status_code == 400 and "网页授权域名" in response.content.decode()


@pytest.mark.parametrize("next_url", ["https://evil.example/steal", "//evil.example/", "javascript:alert(1)"])
def test_an_open_redirect_is_refused(client, account, next_url):
    response = start(client, account, next=next_url)
    assert response.status_code == 400
    assert not client.session.get(oauth.STATE_SESSION_KEY)


def test_an_unknown_scope_is_refused(client, account):
    assert start(client, account, scope="snsapi_login").status_code == 400


def test_a_callback_without_state_is_refused(client, account, sandbox_app):
    callback = consent(client, account)
    response = client.get(f"/wechat/{account.appid}/oauth/callback", {"code": query(callback)["code"]})
    assert response.status_code == 400 and visitor(client, account) is None
    assert not SandboxCall.objects.filter(api=Endpoint.OAUTH_ACCESS_TOKEN.path).exists()


def test_a_callback_with_a_wrong_state_is_refused(client, account, sandbox_app):
    callback = consent(client, account)
    response = client.get(f"/wechat/{account.appid}/oauth/callback", {"code": query(callback)["code"], "state": "forged123"})
    assert response.status_code == 400 and visitor(client, account) is None


def test_a_state_started_in_another_browser_is_refused(client, django_user_model, account, sandbox_app):
    from django.test import Client

    callback = consent(client, account)
    attacker = Client()
    assert attacker.get(callback).status_code == 400
    assert visitor(attacker, account) is None


def test_a_reused_state_is_refused(client, account, sandbox_app):
    callback = consent(client, account)
    assert client.get(callback).status_code == 302
    again = client.get(callback)
    assert again.status_code == 400 and "已被使用" in again.content.decode()


def test_a_reused_code_is_refused_by_wechat_with_40163(client, account, sandbox_app):
    first = consent(client, account)
    code = query(first)["code"]
    assert client.get(first).status_code == 302
    second = consent(client, account)  # a fresh state, but the old code: a reloaded callback page
    response = client.get(f"/wechat/{account.appid}/oauth/callback", {"code": code, "state": query(second)["state"]})
    assert response.status_code == 400 and "40163" in response.content.decode()
    assert SandboxCall.objects.filter(api=Endpoint.OAUTH_ACCESS_TOKEN.path, errcode=40163).count() == 1


def test_a_code_older_than_5_minutes_is_refused_by_wechat_with_40029(client, account, sandbox_app):
    callback = consent(client, account)
    SandboxApp.objects.filter(pk=sandbox_app.pk).update(clock_offset=301)
    response = client.get(callback)
    assert response.status_code == 400 and "40029" in response.content.decode()
    assert visitor(client, account) is None


def test_declining_logs_nobody_in(client, account, sandbox_app):
    callback = consent(client, account, decision="deny")
    assert "code" not in query(callback)
    response = client.get(callback)
    assert response.status_code == 403 and visitor(client, account) is None


def test_a_moments_snapshot_user_is_not_logged_in_or_linked(client, account, sandbox_app):
    response = client.get(consent(client, account, openid="oSnapshot01", snapshot=True))
    assert response.status_code == 403 and "朋友圈快照页" in response.content.decode()
    assert visitor(client, account) is None
    assert not Follower.objects.filter(openid="oSnapshot01").exists()


def test_logout(client, account, sandbox_app):
    client.get(consent(client, account))
    client.post(f"/wechat/{account.appid}/oauth/logout")
    assert visitor(client, account) is None


# The sandbox's sns endpoints, called the way the project calls them.


def grant(sandbox_app, *, scope="snsapi_base", openid="oVisitor001"):
    from django.utils import timezone

    return SandboxOAuthGrant.objects.create(
        app=sandbox_app, openid=openid, scope=scope, code=f"code-{scope}", code_issued_at=timezone.now()
    )


def test_the_token_answer_has_the_shape_of_wechats_sample(account, sandbox_app):
    SandboxFollowerFactory(app=sandbox_app, openid="oVisitor001", unionid="uUnion")
    grant(sandbox_app)
    body = oauth.code_exchange(account=account, code="code-snsapi_base")
    sample = sample_json("api/sns_oauth2_access_token_response.json")
    assert set(body) == set(sample) - {"is_snapshotuser"}
    assert body["openid"] == "oVisitor001" and body["scope"] == "snsapi_base"


def test_refresh_and_auth(account, sandbox_app):
    grant(sandbox_app, scope="snsapi_userinfo")
    token = oauth.code_exchange(account=account, code="code-snsapi_userinfo")
    refreshed = oauth.token_refresh(account=account, refresh_token=token["refresh_token"])
    assert set(refreshed) == set(sample_json("api/sns_oauth2_refresh_token_response.json"))
    assert refreshed["access_token"] != token["access_token"]
    client = client_for(account)
    params = {"access_token": refreshed["access_token"], "openid": "oVisitor001"}
    assert client.get(client.api_url(Endpoint.OAUTH_AUTH.path), params=params, anonymous=True) == sample_json(
        "api/sns_auth_response.json"
    )
    with pytest.raises(WeChatError) as exc:
        client.get(
            client.api_url(Endpoint.OAUTH_AUTH.path), params={**params, "access_token": token["access_token"]}, anonymous=True
        )
    assert exc.value.errcode == 40001


def test_an_expired_refresh_token_answers_42002(account, sandbox_app):
    grant(sandbox_app)
    token = oauth.code_exchange(account=account, code="code-snsapi_base")
    SandboxApp.objects.filter(pk=sandbox_app.pk).update(clock_offset=31 * 86400)
    with pytest.raises(WeChatError) as exc:
        oauth.token_refresh(account=account, refresh_token=token["refresh_token"])
    assert exc.value.errcode == 42002


def test_userinfo_needs_the_userinfo_scope(account, sandbox_app):
    grant(sandbox_app)
    token = oauth.code_exchange(account=account, code="code-snsapi_base")
    with pytest.raises(WeChatError) as exc:
        oauth.userinfo_fetch(account=account, access_token=token["access_token"], openid=token["openid"])
    assert exc.value.errcode == 48001


def test_userinfo_has_the_shape_of_wechats_sample(account, sandbox_app):
    SandboxFollowerFactory(app=sandbox_app, openid="oVisitor001", unionid="uUnion")
    grant(sandbox_app, scope="snsapi_userinfo")
    token = oauth.code_exchange(account=account, code="code-snsapi_userinfo")
    info = oauth.userinfo_fetch(account=account, access_token=token["access_token"], openid=token["openid"])
    assert set(info) == set(sample_json("api/sns_userinfo_response.json"))


def test_a_wrong_secret_is_refused(account, sandbox_app):
    grant(sandbox_app)
    SandboxApp.objects.filter(pk=sandbox_app.pk).update(secret="rotated")
    with pytest.raises(WeChatError) as exc:
        oauth.code_exchange(account=account, code="code-snsapi_base")
    assert exc.value.errcode == 40125

"""Who reaches the sandbox: operators see only their accounts; the OAuth page redirects only to this site; the
in-process transport does not depend on the public /sandbox/ mount."""

from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User

from sandbox import phone
from sandbox.models import SandboxApp, SandboxDelivery, SandboxOAuthGrant
from wechat.gateway import client_for

OTHER_APPID = "wx2222222222222222"


@pytest.fixture
def operator_of_one(client, make_account):
    """Two sandbox accounts; the logged-in staff user operates the first only."""
    mine = make_account()
    make_account(appid=OTHER_APPID, original_id="gh_000000000002")
    operator = User.objects.create_user("operator", password="pw-for-tests-1", is_staff=True)
    mine.operators.add(operator)
    client.force_login(operator)
    return mine


def test_simulator_lists_only_the_accounts_the_operator_operates(client, operator_of_one):
    html = client.get(f"/sandbox/simulator/?appid={OTHER_APPID}").content.decode()
    assert f'value="{operator_of_one.appid}" selected' in html
    assert OTHER_APPID not in html


def test_simulator_does_not_push_for_an_account_the_operator_does_not_operate(client, operator_of_one):
    client.post(f"/sandbox/simulator/?appid={OTHER_APPID}&openid=oSim", {"action": "text", "content": "hi"})
    assert not SandboxDelivery.objects.filter(app__appid=OTHER_APPID).exists()


def test_superuser_sees_every_sandbox_account_in_the_simulator(client, operator_of_one):
    client.force_login(User.objects.create_superuser("admin", password="pw-for-tests-1"))
    html = client.get("/sandbox/simulator/").content.decode()
    assert operator_of_one.appid in html and OTHER_APPID in html


def _authorize(client, account, redirect_uri: str):
    query = {
        "appid": account.appid,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": "snsapi_base",
        "state": "s1",
        "decision": "allow",
        "openid": "oVisitor",
    }
    return client.get(f"/sandbox/connect/oauth2/authorize?{urlencode(query)}")


@pytest.mark.parametrize(
    "redirect_uri",
    ["https://evil.example.com/steal", "http://testserver@evil.example.com/steal", "//evil.example.com/steal"],
)
def test_sandbox_oauth_refuses_to_redirect_to_another_host(client, account, sandbox_app, redirect_uri):
    response = _authorize(client, account, redirect_uri)
    assert response.status_code == 400
    assert not SandboxOAuthGrant.objects.exists()


def test_sandbox_oauth_redirects_back_to_this_site(client, account, sandbox_app):
    response = _authorize(client, account, "http://testserver/wechat/x/oauth/callback")
    assert response.status_code == 302
    assert response["Location"].startswith("http://testserver/wechat/x/oauth/callback?code=")


@pytest.mark.urls("sandbox.tests.public_urls_without_sandbox")
def test_in_process_transport_works_without_the_public_sandbox_mount(client, account, sandbox_app):
    assert client.get("/sandbox/cgi-bin/token").status_code == 404
    assert client_for(account).callback_ips()
    account.default_reply_text = "收到"
    account.save()
    result = phone.follower_sends(SandboxApp.objects.get(pk=sandbox_app.pk), "oPrivate", {"MsgType": "text", "Content": "hi"})
    assert result.status == 200 and result.fields["Content"] == "收到"

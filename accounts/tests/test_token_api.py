import pytest
from django.contrib.auth.models import Permission, User
from rest_framework.authtoken.models import Token

from sandbox.tests.factories import SandboxFaultFactory
from wechat.api.endpoints import Endpoint
from wechat.models import AccessToken

URL = "/api/v1/accounts/{appid}/access-token/"


@pytest.fixture
def service_user(account):
    user = User.objects.create_user("crm-service")
    user.user_permissions.add(Permission.objects.get(codename="borrow_access_token"))
    account.operators.add(user)
    return user


def auth(user):
    return {"HTTP_AUTHORIZATION": f"Token {Token.objects.get_or_create(user=user)[0].key}"}


def test_granted_service_borrows_the_central_token(client, account, service_user):
    response = client.get(URL.format(appid=account.appid), **auth(service_user))
    assert response.status_code == 200
    body = response.json()
    assert body["access_token"] == AccessToken.objects.get(account=account, kind="access_token").value
    assert 7000 < body["expires_in"] <= 7200
    again = client.get(URL.format(appid=account.appid), **auth(service_user)).json()
    assert again["access_token"] == body["access_token"]


def test_anonymous_caller_is_refused(client, account):
    assert client.get(URL.format(appid=account.appid)).status_code == 401


def test_caller_without_the_permission_is_refused(client, account):
    user = User.objects.create_user("no-perm")
    account.operators.add(user)
    assert client.get(URL.format(appid=account.appid), **auth(user)).status_code == 403


def test_caller_not_granted_this_account_gets_404(client, account, make_account, service_user):
    other = make_account(appid="wxaaaaaaaaaaaaaaaa")
    assert client.get(URL.format(appid=other.appid), **auth(service_user)).status_code == 404
    assert not AccessToken.objects.filter(account=other).exists()


def test_wechat_failure_is_a_502_with_the_meaning(client, account, service_user):
    SandboxFaultFactory(api=Endpoint.STABLE_TOKEN.path, kind="errcode", value=-1)
    response = client.get(URL.format(appid=account.appid), **auth(service_user))
    assert response.status_code == 502
    assert response.json()["errcode"] == -1
    assert response.json()["meaning_en"]

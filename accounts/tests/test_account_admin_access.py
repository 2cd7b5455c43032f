"""Who may change an account's API base URL (it receives the AppSecret) and who may grant access to it."""

import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from accounts.models import OfficialAccount
from accounts.services import account_upsert
from wechat import transport
from wechat.models import AccessToken
from wechat.tests.test_gateway_base_url import EVIL_BASE, RecordingAdapter

EVIL = "https://evil.example/"


def change_url(account):
    return f"/en/admin/accounts/officialaccount/{account.pk}/change/"


def form_data(account, **fields):
    """The change form as a browser would post it, with nothing in the write-only secret fields."""
    data = {
        "name": account.name,
        "appid": account.appid,
        "account_type": account.account_type,
        "verified": "on" if account.verified else "",
        "token": account.token,
        "encoding_mode": account.encoding_mode,
        "encoding_aes_key": "",
        "app_secret": "",
        "default_reply_text": account.default_reply_text,
        "use_stable_token": "on" if account.use_stable_token else "",
        "js_domains": account.js_domains,
        **fields,
    }
    return {key: value for key, value in data.items() if value != ""}


def staff(username, *accounts, administers=()):
    user = User.objects.create_user(username, password="pw-for-tests-1", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_officialaccount", "change_officialaccount"]))
    for account in accounts:
        account.operators.add(user)
    for account in administers:
        account.administrators.add(user)
    return user


@pytest.fixture
def superuser_client(client, db):
    client.force_login(User.objects.create_superuser("root", password="pw-for-tests-1"))
    return client


# The API base URL


def test_operators_never_see_the_api_base_url_field(client, account):
    client.force_login(staff("op", account, administers=[account]))
    html = client.get(change_url(account)).content.decode()
    assert 'name="api_base_url"' not in html
    assert account.api_base_url not in html


def test_an_operators_post_of_an_api_base_url_is_ignored(client, account):
    before = account.api_base_url
    user = staff("op", account, administers=[account])
    client.force_login(user)
    data = form_data(account, name="Renamed", operators=[user.pk], api_base_url=EVIL)
    response = client.post(change_url(account), data, follow=True)
    assert response.status_code == 200
    account.refresh_from_db()
    assert account.api_base_url == before and account.name == "Renamed"
    assert "You may not change API base URL" in response.content.decode()


def test_superusers_cannot_set_an_api_base_url_off_the_allow_list(superuser_client, account):
    before = account.api_base_url
    response = superuser_client.post(change_url(account), form_data(account, api_base_url=EVIL))
    assert response.status_code == 200
    assert "not on the allowed list" in response.content.decode()
    account.refresh_from_db()
    assert account.api_base_url == before


def test_superusers_may_set_an_api_base_url_on_the_allow_list(superuser_client, account, settings):
    settings.WECHAT_API_BASE_URL_ALLOWED = ["https://api.weixin.qq.com/", "https://sh.api.weixin.qq.com/"]
    response = superuser_client.post(change_url(account), form_data(account, api_base_url="https://sh.api.weixin.qq.com/"))
    assert response.status_code == 302, response.content.decode()[:2000]
    account.refresh_from_db()
    assert account.api_base_url == "https://sh.api.weixin.qq.com/"


def test_account_upsert_refuses_an_api_base_url_off_the_allow_list(db):
    with pytest.raises(ValidationError) as refused:
        account_upsert(appid="wx1234567890abcdef", name="Shop", secret="s3cret", token="tok123", api_base_url=EVIL)
    assert "api_base_url" in refused.value.message_dict
    assert not OfficialAccount.objects.exists()


def test_add_account_refuses_an_api_base_url_off_the_allow_list(db):
    args = ["--name", "Shop", "--appid", "wx1234567890abcdef", "--secret", "s3cret", "--token", "tok123"]
    with pytest.raises(CommandError) as refused:
        call_command("add_account", *args, "--api-base-url", EVIL)
    assert "api_base_url" in str(refused.value)
    assert not OfficialAccount.objects.exists()


def test_force_refresh_with_a_forged_base_url_explains_and_sends_nothing(superuser_client, account):
    adapter = RecordingAdapter()
    session = transport.session()
    session.mount(EVIL_BASE, adapter)
    try:
        OfficialAccount.objects.filter(pk=account.pk).update(api_base_url=EVIL_BASE)
        response = superuser_client.post(
            "/en/admin/accounts/officialaccount/",
            {"action": "force_refresh_token", "_selected_action": [account.pk]},
            follow=True,
        )
    finally:
        session.adapters.pop(EVIL_BASE, None)
    html = response.content.decode()
    assert adapter.requests == []
    assert "Not sent to WeChat -1004" in html and "not on the allowed list" in html
    assert "Traceback" not in html
    assert not AccessToken.objects.filter(account=account, value="token-from-elsewhere").exists()


# Granting access: operators and administrators


def test_an_operator_who_is_not_an_administrator_sees_the_operators_read_only(client, account):
    client.force_login(staff("op", account))
    response = client.get(change_url(account))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="operators"' not in html and 'name="administrators"' not in html


@pytest.mark.parametrize(
    ("administers", "field"),
    [(False, "operators"), (False, "administrators"), (True, "administrators")],
    ids=["operator-grants-operators", "operator-appoints-administrators", "administrator-appoints-administrators"],
)
def test_a_forged_access_grant_changes_nothing(client, account, administers, field):
    user = staff("op", account, administers=[account] if administers else [])
    outsider = User.objects.create_user("outsider", password="pw-for-tests-1", is_staff=True)
    before = {name: set(getattr(account, name).all()) for name in ("operators", "administrators")}
    client.force_login(user)
    data = form_data(account, **({"operators": [user.pk]} if administers else {}))
    data[field] = [user.pk, outsider.pk]
    response = client.post(change_url(account), data, follow=True)
    assert response.status_code == 200
    assert {name: set(getattr(account, name).all()) for name in ("operators", "administrators")} == before
    assert "they were left as they were" in response.content.decode()


def test_an_account_administrator_may_grant_operators(client, account):
    admin = staff("lead", account, administers=[account])
    colleague = User.objects.create_user("colleague", password="pw-for-tests-1", is_staff=True)
    client.force_login(admin)
    response = client.post(change_url(account), form_data(account, operators=[admin.pk, colleague.pk]))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert set(account.operators.all()) == {admin, colleague}


def test_administrators_of_an_account_must_be_its_operators(superuser_client, account):
    lead = User.objects.create_user("lead", password="pw-for-tests-1", is_staff=True)
    response = superuser_client.post(change_url(account), form_data(account, administrators=[lead.pk]))
    assert response.status_code == 200
    assert "must also be its operators" in response.content.decode()
    assert not account.administrators.exists()


def test_staff_who_add_an_account_operate_and_administer_it(client, db):
    user = staff("founder")
    user.user_permissions.add(Permission.objects.get(codename="add_officialaccount"))
    client.force_login(user)
    data = {"name": "New", "appid": "wx1234567890abcdef", "account_type": "service", "token": "tok123"}
    data.update({"encoding_mode": "plain", "app_secret": "s3cret", "use_stable_token": "on"})
    response = client.post("/en/admin/accounts/officialaccount/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    account = OfficialAccount.objects.get()
    assert list(account.operators.all()) == [user] and list(account.administrators.all()) == [user]


def _account_form(**fields):
    return {
        "name": "Shop",
        "appid": "wx1234567890abcd01",
        "account_type": "service",
        "token": "tok123",
        "encoding_mode": "plain",
        "encoding_aes_key": "",
        "app_secret": "s3cret",
        "default_reply_text": "",
        "js_domains": "",
        "api_base_url": "",
        **fields,
    }


def test_an_account_added_in_the_admin_is_saved_by_the_service(admin_client, monkeypatch):
    from accounts import services

    saved = []
    real = services.account_save
    monkeypatch.setattr(services, "account_save", lambda **kw: saved.append(kw["account"].appid) or real(**kw))
    response = admin_client.post("/en/admin/accounts/officialaccount/add/", _account_form())
    assert response.status_code == 302, response.content.decode()[:3000]
    assert saved == ["wx1234567890abcd01"]
    assert OfficialAccount.objects.get(appid="wx1234567890abcd01").app_secret == "s3cret"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"encoding_mode": "safe", "encoding_aes_key": "tooShort0123"}, "An EncodingAESKey is exactly 43 letters and digits."),
        ({"encoding_mode": "safe", "encoding_aes_key": ""}, "Compatible and safe modes need the EncodingAESKey."),
        ({"app_secret": ""}, "The AppSecret is required for a new account."),
        ({"app_secret": "x" * 129}, "at most 128 characters"),
    ],
)
def test_the_admin_refuses_an_invalid_aes_key_or_secret_with_a_clear_message(admin_client, fields, message):
    response = admin_client.post("/en/admin/accounts/officialaccount/add/", _account_form(**fields))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not OfficialAccount.objects.filter(appid="wx1234567890abcd01").exists()

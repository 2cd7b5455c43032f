"""AppSecret and EncodingAESKey are write-only: no admin page ever carries them, whoever looks."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.urls import NoReverseMatch, reverse

from tests.test_admin_scoping import seed_rows

SECRET = "AppSecretNeverShown0123456789ab"
AES_KEY = "EncodingKeyNeverShownAbCdEfGhIjKlMnOpQrStU"


@pytest.fixture
def account_with_secrets(make_account):
    account = make_account(secret=SECRET, mode="safe")
    account.encoding_aes_key = AES_KEY
    account.save()
    account.refresh_from_db()
    assert (account.app_secret, account.encoding_aes_key) == (SECRET, AES_KEY)
    seed_rows(account, "Own")
    return account


def admin_pages(account):
    """Every changelist, the add and change page of one row of every model, and the account's own pages."""
    for model in admin.site._registry:
        opts = model._meta
        yield reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        try:
            yield reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
        except NoReverseMatch:
            pass
        row = model._default_manager.order_by("pk").first()
        if row is not None:
            yield reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk])
    for view in ("history", "delete"):
        yield reverse(f"admin:accounts_officialaccount_{view}", args=[account.pk])


def test_no_admin_page_shows_the_app_secret_or_the_aes_key(client, account_with_secrets):
    client.force_login(User.objects.create_superuser("root", password="pw-for-tests-1"))
    shown = {}
    for url in admin_pages(account_with_secrets):
        response = client.get(url)
        assert response.status_code in (200, 403), url
        html = response.content.decode()
        found = [name for name, value in (("AppSecret", SECRET), ("EncodingAESKey", AES_KEY)) if value in html]
        if found:
            shown[url] = found
    assert shown == {}


def test_a_secret_typed_into_a_refused_form_is_not_rendered_back(client, account_with_secrets):
    client.force_login(User.objects.create_superuser("root", password="pw-for-tests-1"))
    typed_secret, typed_key = "TypedSecretNotEchoed987654321", "TypedKeyNotEchoedAbCdEfGhIjKlMnOpQrStUvWxY"
    data = {
        "name": "",  # required: the form is refused and shown again
        "appid": account_with_secrets.appid,
        "account_type": "service",
        "token": account_with_secrets.token,
        "encoding_mode": "safe",
        "encoding_aes_key": typed_key,
        "app_secret": typed_secret,
    }
    response = client.post(f"/en/admin/accounts/officialaccount/{account_with_secrets.pk}/change/", data)
    html = response.content.decode()
    assert response.status_code == 200 and "This field is required" in html
    assert typed_secret not in html and typed_key not in html

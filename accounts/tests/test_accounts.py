import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import OfficialAccount
from sandbox.models import SandboxApp
from sandbox.tests.factories import SandboxFaultFactory
from wechat.api.endpoints import Endpoint
from wechat.models import AccessToken

ROOT = Path(__file__).resolve().parents[2]
AES = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def add_account(*extra, **kwargs):
    args = ["--name", "Shop", "--appid", "wx1234567890abcdef", "--secret", "s3cret-value", "--token", "tok123", *extra]
    call_command("add_account", *args, **kwargs)


@pytest.mark.django_db
def test_add_account_creates_then_updates_idempotently(capsys):
    add_account("--aes-key", AES, "--mode", "safe")
    out = capsys.readouterr().out
    assert "Created" in out and "/wechat/wx1234567890abcdef/callback/" in out
    add_account("--aes-key", AES, "--mode", "safe")
    assert "Updated" in capsys.readouterr().out
    account = OfficialAccount.objects.get()
    assert account.encoding_mode == "safe" and account.app_secret == "s3cret-value" and account.encoding_aes_key == AES


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "x", "--appid", "not-an-appid", "--secret", "s", "--token", "tok123"], "appid"),
        (
            ["--name", "x", "--appid", "wx1234567890abcdef", "--secret", "s", "--token", "tok123", "--aes-key", "short"],
            "encoding_aes_key",
        ),
        (["--name", "x", "--appid", "wx1234567890abcdef", "--secret", "s", "--token", "a b"], "token"),
        (
            ["--name", "x", "--appid", "wx1234567890abcdef", "--secret", "s", "--token", "tok123", "--mode", "safe"],
            "encoding_aes_key",
        ),
    ],
    ids=["bad-appid", "short-aes-key", "bad-token", "safe-without-key"],
)
def test_add_account_rejects_invalid_values_and_saves_nothing(args, message):
    with pytest.raises(CommandError) as exc:
        call_command("add_account", *args)
    assert message in str(exc.value)
    assert not OfficialAccount.objects.exists()


@pytest.mark.django_db
def test_secrets_are_encrypted_at_rest():
    add_account("--aes-key", AES)
    with connection.cursor() as cursor:
        cursor.execute("SELECT app_secret, encoding_aes_key FROM accounts_officialaccount")
        secret, aes = cursor.fetchone()
    assert "s3cret-value" not in secret and AES not in aes
    assert OfficialAccount.objects.get().app_secret == "s3cret-value"


@pytest.fixture
def admin_client_zh(client, db):
    user = User.objects.create_superuser("admin", password="pw-for-tests-1")
    client.force_login(user)
    return client


def test_admin_never_renders_secrets_and_shows_the_callback_url(admin_client_zh, account):
    response = admin_client_zh.get(f"/admin/accounts/officialaccount/{account.pk}/change/")
    html = response.content.decode()
    assert response.status_code == 200
    assert account.app_secret not in html
    assert account.callback_url in html


def test_admin_save_with_empty_secret_keeps_the_stored_one(admin_client_zh, account):
    url = f"/admin/accounts/officialaccount/{account.pk}/change/"
    data = {
        "name": "Renamed",
        "appid": account.appid,
        "account_type": "service",
        "verified": "on",
        "token": account.token,
        "encoding_mode": "plain",
        "encoding_aes_key": "",
        "app_secret": "",
        "default_reply_text": "",
        "use_stable_token": "on",
        "js_domains": "",
        "api_base_url": account.api_base_url,
    }
    response = admin_client_zh.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    account.refresh_from_db()
    assert account.name == "Renamed" and account.app_secret == "sandbox-secret-1"


def test_admin_refuses_safe_mode_without_a_key(admin_client_zh, account):
    url = f"/admin/accounts/officialaccount/{account.pk}/change/"
    data = {
        "name": "x",
        "appid": account.appid,
        "account_type": "service",
        "token": account.token,
        "encoding_mode": "safe",
        "encoding_aes_key": "",
        "app_secret": "",
        "api_base_url": account.api_base_url,
    }
    response = admin_client_zh.post(url, data)
    assert response.status_code == 200
    assert "EncodingAESKey" in response.content.decode()
    account.refresh_from_db()
    assert account.encoding_mode == "plain"


def test_force_refresh_action_goes_through_the_store(admin_client_zh, account):
    from wechat import tokens

    old = tokens.access_token_get(account=account)
    SandboxApp.objects.filter(appid=account.appid).update(clock_offset=60)
    response = admin_client_zh.post(
        "/en/admin/accounts/officialaccount/",
        {"action": "force_refresh_token", "_selected_action": [account.pk]},
        follow=True,
    )
    assert "new access_token stored" in response.content.decode()
    assert AccessToken.objects.get(account=account).value != old


def test_force_refresh_failure_shows_errcode_and_meaning_not_a_traceback(admin_client_zh, account):
    SandboxFaultFactory(api=Endpoint.STABLE_TOKEN.path, kind="errcode", value=48001)
    response = admin_client_zh.post(
        "/admin/accounts/officialaccount/",
        {"action": "force_refresh_token", "_selected_action": [account.pk]},
        follow=True,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "48001" in html and "接口未授权" in html and "API unauthorised" in html
    assert "Traceback" not in html


def test_operators_see_only_their_accounts(client, make_account):
    mine = make_account(appid="wx1111111111111111")
    make_account(appid="wx2222222222222222")
    operator = User.objects.create_user("op", password="pw-for-tests-1", is_staff=True)
    from django.contrib.auth.models import Permission

    operator.user_permissions.add(*Permission.objects.filter(codename__in=["view_officialaccount", "change_officialaccount"]))
    mine.operators.add(operator)
    client.force_login(operator)
    html = client.get("/en/admin/accounts/officialaccount/").content.decode()
    assert "wx1111111111111111" in html and "wx2222222222222222" not in html


def _settings_probe(env):
    code = "import django; django.setup(); from django.conf import settings; print(len(settings.SALT_KEY))"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_production_mode_refuses_to_start_without_the_field_encryption_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "SALT_KEY")}
    env.update({"DJANGO_SETTINGS_MODULE": "wxsite.settings", "DJANGO_DEBUG": "false", "WXSITE_VAR_DIR": str(tmp_path)})
    result = _settings_probe(env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr and "ImproperlyConfigured" in result.stderr
    env.update({"SECRET_KEY": "k" * 50, "SALT_KEY": "salt-value"})
    assert _settings_probe(env).returncode == 0


def test_embedded_mode_generates_the_keys_once(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "SALT_KEY", "DJANGO_DEBUG")}
    env.update({"DJANGO_SETTINGS_MODULE": "wxsite.settings", "WXSITE_VAR_DIR": str(tmp_path)})
    var_step = [sys.executable, "-m", "wxsite.var"]
    assert subprocess.run(var_step, cwd=ROOT, env=env, capture_output=True, timeout=60).returncode == 0
    first = (tmp_path / "salt_key").read_text()
    assert _settings_probe(env).returncode == 0
    assert subprocess.run(var_step, cwd=ROOT, env=env, capture_output=True, timeout=60).returncode == 0
    assert (tmp_path / "salt_key").read_text() == first

"""Login protection (django-axes): repeated failed logins of one username from one address lock that pair out."""

import pytest
from axes.models import AccessAttempt

LOGIN = "/admin/login/"
PASSWORD = "pw-for-test-1"


@pytest.fixture
def operator(django_user_model):
    return django_user_model.objects.create_user("op", password=PASSWORD, is_staff=True)


def _login(client, username, password, **extra):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"}, **extra)


def test_the_right_password_logs_in(client, operator):
    assert _login(client, "op", PASSWORD).status_code == 302


def test_after_the_failure_limit_even_the_right_password_is_refused_with_a_chinese_message(client, operator, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "op", "wrong").status_code == 200  # the form again, with Django's error
    locked = _login(client, "op", "wrong")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "登录失败次数过多" in page and "15 分钟" in page
    assert _login(client, "op", PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lock_is_per_username_and_address(client, operator, django_user_model, settings):
    django_user_model.objects.create_user("other", password=PASSWORD, is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "op", "wrong")
    assert _login(client, "other", PASSWORD).status_code == 302
    assert _login(client, "op", PASSWORD, REMOTE_ADDR="10.1.2.3").status_code == 302


def test_a_successful_login_clears_the_failures(client, operator, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "op", "wrong")
    assert _login(client, "op", PASSWORD).status_code == 302
    client.logout()
    assert _login(client, "op", "wrong").status_code == 200
    assert AccessAttempt.objects.get(username="op").failures_since_start == 1


def test_the_lockout_page_speaks_english_under_en(client, operator, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/en/admin/login/", {"username": "op", "password": "wrong"})
    page = client.post("/en/admin/login/", {"username": "op", "password": PASSWORD}).content.decode()
    assert "Too many failed logins" in page and "15 minutes" in page


def test_force_login_used_by_tests_is_not_affected(client, operator):
    client.force_login(operator)
    assert client.get("/admin/").status_code == 200


def test_behind_the_proxy_the_lock_follows_the_address_the_proxy_saw(client, operator, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proxy = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_PROTO": "https"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        # A forged first entry changes nothing: the proxy's own (last) entry is the address.
        _login(client, "op", "wrong", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.7", secure=True, **proxy)
    assert _login(client, "op", PASSWORD, HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.7", secure=True, **proxy).status_code == 429
    assert _login(client, "op", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.8", secure=True, **proxy).status_code == 302

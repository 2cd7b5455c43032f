"""Production mode (DJANGO_DEBUG=false) as .env.example configures it: HTTPS, secrets, no sandbox."""

import pytest

from tests.deploy_support import embedded_env, example_env, run, run_django
from wechat.api.endpoints import Endpoint

# The sandbox answers WeChat's paths under /sandbox/ (the in-process transport's host included).
SANDBOX_TOKEN = f"/sandbox/{Endpoint.TOKEN.value.path}"

HTTPS_SETTINGS = (
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
)
PRINT_HTTPS = (
    "from django.conf import settings; "
    f"print([getattr(settings, name) for name in {HTTPS_SETTINGS!r}], settings.SECURE_HSTS_SECONDS, "
    "settings.SECURE_PROXY_SSL_HEADER)"
)


def test_check_deploy_is_clean_with_the_production_example_env():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], example_env())
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


@pytest.mark.parametrize("name", ["SECRET_KEY", "SALT_KEY"])
def test_placeholder_secret_of_env_example_is_refused_like_a_missing_one(name):
    placeholder = next(line.split("=", 1)[1] for line in open(".env.example") if line.startswith(f"{name}="))
    result = run_django("", {**example_env(), name: placeholder})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and f"{name} is still the placeholder of .env.example" in result.stderr


def test_production_mode_turns_https_enforcement_on():
    env = {name: value for name, value in example_env().items() if not name.startswith(("SECURE_", "SESSION_", "CSRF_COOKIE"))}
    result = run_django(PRINT_HTTPS, env)
    assert result.stdout.split("\n")[0] == "[True, True, True, True, True] 31536000 ('HTTP_X_FORWARDED_PROTO', 'https')"


def test_embedded_mode_leaves_https_enforcement_off():
    result = run_django(PRINT_HTTPS, embedded_env())
    assert result.stdout.split("\n")[0] == "[False, False, False, False, False] 0 None", result.stderr


def test_https_settings_follow_their_variables_in_production():
    names = [*HTTPS_SETTINGS, "SECURE_PROXY_SSL_HEADER"]
    env = {**example_env(), **dict.fromkeys(names, "false"), "SECURE_HSTS_SECONDS": "60"}
    result = run_django(PRINT_HTTPS, env)
    assert result.stdout.split("\n")[0] == "[False, False, False, False, False] 60 None", result.stderr


@pytest.mark.parametrize("path", ["/sandbox/simulator/", f"{SANDBOX_TOKEN}?grant_type=client_credential"])
def test_sandbox_pages_answer_404_in_production(path):
    code = f"from django.test import Client; print(Client().get({path!r}, secure=True).status_code)"
    result = run_django(code, {**example_env(), "ALLOWED_HOSTS": "testserver"})
    assert result.stdout.strip() == "404", result.stderr


def test_in_process_sandbox_transport_is_not_mounted_in_production():
    code = (
        "import requests\n"
        "from wechat import transport\n"
        "session = transport.session()\n"
        f"print(type(session.get_adapter('http://sandbox.inprocess{SANDBOX_TOKEN}')).__name__)\n"
        "try:\n"
        f"    session.get('http://sandbox.inprocess{SANDBOX_TOKEN}', timeout=3)\n"
        "except requests.ConnectionError:\n"
        "    print('connection error')\n"
    )
    result = run_django(code, example_env())
    assert result.stdout.split() == ["HTTPAdapter", "connection", "error"], result.stderr


def test_sandbox_is_mounted_in_the_embedded_mode():
    code = "from django.test import Client; print(Client().get('/sandbox/simulator/').status_code)"
    result = run_django(code, embedded_env())
    assert result.stdout.strip() == "302", result.stderr

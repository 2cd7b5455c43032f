"""The callback goes through its short middleware list; every other path through the whole one."""

import gc
import io
import os
import subprocess
import sys
import time

import pytest
from celery.signals import worker_process_init, worker_ready
from django.conf import settings
from django.urls import reverse

from conftest import sample_text
from messaging.inbound.models import InboundMessage
from messaging.inbound.tests.callback_client import signed_query
from wxsite.handlers import CALLBACK_PATH, WxsiteWSGIHandler, wsgi_application

pytestmark = pytest.mark.django_db(transaction=True)


def _call(application, path: str, *, method: str = "GET", query: str = "", body: bytes = b"", scheme: str = "https"):
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "443" if scheme == "https" else "80",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "SCRIPT_NAME": "",
        "CONTENT_TYPE": "text/xml",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": scheme,
        "wsgi.errors": io.StringIO(),
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"] = int(status.split()[0])
        seen["headers"] = {name.lower(): value for name, value in headers}

    content = b"".join(application(environ, start_response))
    return seen["status"], seen["headers"], content


def _query(account) -> str:
    return "&".join(f"{k}={v}" for k, v in signed_query(account.token).items())


def test_the_callback_route_is_the_path_the_short_list_serves(account):
    assert CALLBACK_PATH.fullmatch(reverse("inbound:callback", kwargs={"appid": account.appid}))
    assert CALLBACK_PATH.fullmatch(account.callback_path)
    assert not CALLBACK_PATH.fullmatch(f"/wechat/{account.appid}/oauth/")
    assert not CALLBACK_PATH.fullmatch(f"/wechat/{account.appid}/callback/extra/")


def test_callback_is_stored_and_answered_without_the_page_middleware(account, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    application = WxsiteWSGIHandler()
    xml = sample_text("inbound/msg_text.xml").replace("1234567890123456", "5550001").replace("1348831860", str(int(time.time())))
    status, headers, _ = _call(application, account.callback_path, method="POST", query=_query(account), body=xml.encode())
    assert status == 200
    assert InboundMessage.objects.filter(account=account, msg_id="5550001").exists()
    # No session, language or frame handling on a machine endpoint; the transport guards stay.
    assert "x-frame-options" not in headers
    assert "vary" not in headers
    assert "set-cookie" not in headers
    assert headers["x-content-type-options"] == "nosniff"


def test_pages_still_go_through_the_whole_list(account, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    status, headers, _ = _call(WxsiteWSGIHandler(), "/admin/login/")
    assert status == 200
    assert headers["x-frame-options"] == "DENY"
    assert "Accept-Language" in headers["vary"]
    assert "csrftoken" in headers.get("set-cookie", "")


def test_callback_over_plain_http_is_still_redirected_to_https(account, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.SECURE_SSL_REDIRECT = True
    application = WxsiteWSGIHandler()  # SecurityMiddleware reads the setting when the chain is built
    status, headers, _ = _call(application, account.callback_path, query=_query(account) + "&echostr=hi", scheme="http")
    assert status == 301
    assert headers["location"].startswith("https://testserver/wechat/")


def test_building_the_callback_chain_leaves_the_middleware_setting_as_it_was(settings):
    before = list(settings.MIDDLEWARE)
    WxsiteWSGIHandler()
    assert list(settings.MIDDLEWARE) == before


@pytest.fixture
def unfrozen():
    """The test process's heap as it was: whatever a test froze goes back to the collector."""
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.django_db(transaction=False)
def test_a_web_process_freezes_what_it_loaded_at_startup(unfrozen):
    assert gc.get_freeze_count() == 0
    application = wsgi_application()
    assert isinstance(application, WxsiteWSGIHandler)
    # The handlers, Django's app registry and the settings are out of every later collection.
    assert gc.get_freeze_count() > 10_000


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize("signal", [worker_ready, worker_process_init], ids=["worker ready", "prefork child started"])
def test_a_celery_worker_freezes_what_it_loaded_at_startup(unfrozen, signal):
    import wxsite.celery  # noqa: F401  connects the receivers, as the worker does

    assert gc.get_freeze_count() == 0
    signal.send(sender=None)
    assert gc.get_freeze_count() > 10_000


def test_a_web_process_loads_the_task_modules_before_its_first_request():
    probe = (
        "import sys; from wxsite.wsgi import application; "
        "print(sorted(m for m in ('messaging.inbound.tasks', 'followers.tasks', 'wechat.tasks') if m not in sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=settings.BASE_DIR, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"

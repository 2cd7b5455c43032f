"""Fixtures shared by every app's tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import django
import pytest
from celery import Task

from wxsite.var import var_prepare

# Settings only read var/ (generated keys, broker folders): prepare it as `make migrate` does, then load
# Django here rather than through pytest-django's ini option, which would load the settings first.
var_prepare()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wxsite.settings")
# pytest-xdist runs the suite in worker processes, each on a test database of its own (pytest-django names it after
# the worker). What else they share is kept apart by worker: keys in Redis (cache here, before setup makes a cache
# backend that would keep the settings it saw; the broker below).
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if WORKER:
    from django.conf import settings

    settings.CACHES["default"]["KEY_PREFIX"] = f"test-{WORKER}"
django.setup()


def _test_process_prepare() -> None:
    from django.conf import settings

    from wxsite.celery import app

    # Passwords are hashed hundreds of times (users of fixtures, logins) at about half a second each with the default
    # PBKDF2; no test is about the hash itself.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Celery's Django fixup calls django.setup() again, which configures logging anew and drops every handler added
    # since, the first time the task modules are imported (jobs.task does it on demand). Import them now, as a worker
    # does at start, so that no test loses the handler that captures its log records half way.
    app.loader.import_default_modules()
    if WORKER and app.conf.broker_url.startswith(("redis://", "rediss://")):
        app.conf.broker_transport_options = {**app.conf.broker_transport_options, "global_keyprefix": f"test-{WORKER}:"}


_test_process_prepare()

SAMPLES = Path(__file__).resolve().parent / "tests" / "samples"

PLAIN_APPID = "wx1234567890abcdef"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def sample_path(relative: str) -> Path:
    return SAMPLES / relative


def sample_text(relative: str) -> str:
    return (SAMPLES / relative).read_text(encoding="utf-8")


def sample_json(relative: str):
    return json.loads(sample_text(relative))


@contextmanager
def eager_json_tasks() -> Iterator[None]:
    """Celery tasks run eagerly, but only with arguments that survive a JSON round trip, as a real queue needs; with
    the settings every test runs under. The autouse fixture below puts each test in it; a fixture shared by the tests
    of a class or module enters it itself (function fixtures are set up after it)."""
    from django.test import override_settings
    from django.utils import translation

    from accounts.selectors import callback_cache_clear
    from wechat import tokens
    from wxsite.celery import app

    # Tests change token rows and call logs directly and read them back at once.
    # Outside a request (services, tasks) messages come in English; requests pick their language as usual.
    translation.activate("en")
    test_settings = override_settings(WECHAT_TOKEN_LOCAL_CACHE_SECONDS=0, WECHAT_API_CALL_LOG_BATCH=1, WECHAT_RETRY_JITTER=False)
    original = Task.apply_async

    def apply_async(self, args=None, kwargs=None, **options):
        args = json.loads(json.dumps(list(args or ())))
        kwargs = json.loads(json.dumps(dict(kwargs or {})))
        options.pop("countdown", None)
        options.pop("eta", None)
        return original(self, args, kwargs, **options)

    with test_settings, pytest.MonkeyPatch.context() as monkeypatch:
        tokens.local_cache_clear()
        monkeypatch.setitem(app.conf, "task_always_eager", True)
        monkeypatch.setitem(app.conf, "task_eager_propagates", True)
        monkeypatch.setattr(Task, "apply_async", apply_async)
        callback_cache_clear()
        try:
            yield
        finally:
            translation.deactivate()
            callback_cache_clear()


@pytest.fixture(autouse=True)
def _eager_json_tasks():
    with eager_json_tasks():
        yield


@pytest.fixture(scope="session", autouse=True)
def _media_root_of_the_run(tmp_path_factory):
    """Files the tests store go to a folder of this run (of this worker under pytest-xdist), never var/media."""
    from django.test import override_settings

    with override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))):
        yield


def cache_clear(backend) -> None:
    """Empty a cache. Under pytest-xdist the workers share the Redis database: only this worker's keys go."""
    from wxsite.cache import RedisCache

    if not (WORKER and isinstance(backend, RedisCache)):
        backend.clear()
        return
    client = backend._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{backend.key_prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def make_account(db):
    """An OfficialAccount wired to the in-process sandbox, in the given encoding mode."""
    from accounts.services import account_upsert
    from sandbox.services import sandbox_app_configure

    def make(
        *,
        appid: str = PLAIN_APPID,
        mode: str = "plain",
        token: str = "test",
        secret: str = "sandbox-secret-1",
        account_type: str = "service",
        verified: bool = True,
        original_id: str = "gh_7f083739789a",
        **extra,
    ):
        account, _ = account_upsert(
            appid=appid,
            name=f"Test {appid}",
            secret=secret,
            token=token,
            aes_key=AES_KEY if mode != "plain" else "",
            mode=mode,
            account_type=account_type,
            verified=verified,
        )
        for field, value in extra.items():
            setattr(account, field, value)
        if extra:
            account.save()
        sandbox_app_configure(account=account, original_id=original_id)
        account.refresh_from_db()
        return account

    return make


@pytest.fixture
def account(make_account):
    return make_account()


@pytest.fixture
def sandbox_app(account):
    from sandbox.models import SandboxApp

    return SandboxApp.objects.get(appid=account.appid)


CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent / "var" / "screenshots"


def on_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1")


def browser_marks(*, chromium_present: bool, ci: bool) -> list:
    """Marks of a browser test: skipped where Debian's chromium is missing, except on CI, where that fails."""
    return [
        pytest.mark.browser,
        pytest.mark.skipif(
            not chromium_present and not ci, reason="needs Debian's chromium (apt-get install chromium fonts-noto-cjk)"
        ),
    ]


browser_test = browser_marks(chromium_present=Path(CHROMIUM).exists(), ci=on_ci())


@pytest.fixture
def browser_page(monkeypatch):
    """A headless Chromium page (Playwright with Debian's chromium), 1280 px wide."""
    from django.db import connections
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: browser tests need Debian's chromium and fonts-noto-cjk (.ci/run installs them)")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            browser.close()
            # Playwright's sync API runs the test in a greenlet with a database connection of its own.
            connections.close_all()


# The callback fuzz tests count the requests they send (messaging/inbound/tests/test_callback_fuzz.py); the summary
# adds up those of this process and, under pytest-xdist, those the workers reported.
_fuzz_cases_of_workers: Counter[str] = Counter()


def _fuzz_cases() -> Counter[str]:
    return getattr(sys.modules.get("messaging.inbound.tests.test_callback_fuzz"), "FUZZ_CASES", Counter())


def pytest_runtest_setup(item):
    """A test marked ``postgres`` is skipped on any other database (the embedded default's SQLite)."""
    from django.conf import settings

    if item.get_closest_marker("postgres") and "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        pytest.skip("needs PostgreSQL (DATABASE_URL)")


def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: the controller prints the summary
        workeroutput["callback_fuzz_cases"] = dict(_fuzz_cases())


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    _fuzz_cases_of_workers.update(getattr(node, "workeroutput", {}).get("callback_fuzz_cases", {}))


def pytest_terminal_summary(terminalreporter):
    cases = _fuzz_cases() + _fuzz_cases_of_workers
    if not cases:
        return
    terminalreporter.section("callback fuzz")
    terminalreporter.write_line(f"{sum(cases.values())} requests sent to the callback")
    for label, count in sorted(cases.items()):
        terminalreporter.write_line(f"  {label}: {count}")


def free_port() -> int:
    """A loopback port nothing listens on, for a server a test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_wait(port: int, server: subprocess.Popen, what: str, *, seconds: float = 60) -> None:
    """Return once ``server`` accepts connections on ``port``; fail if it exits or takes longer than ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            assert server.poll() is None and time.monotonic() < deadline, f"{what} did not start"
            time.sleep(0.1)

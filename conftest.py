"""Fixtures shared by every app's tests."""

from __future__ import annotations

import json
import os
from pathlib import Path

import django
import pytest
from celery import Task

from wxsite.var import var_prepare

# Settings only read var/ (generated keys, broker folders): prepare it as `make migrate` does, then load
# Django here rather than through pytest-django's ini option, which would load the settings first.
var_prepare()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wxsite.settings")
django.setup()

SAMPLES = Path(__file__).resolve().parent / "tests" / "samples"

PLAIN_APPID = "wx1234567890abcdef"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def sample_path(relative: str) -> Path:
    return SAMPLES / relative


def sample_text(relative: str) -> str:
    return (SAMPLES / relative).read_text(encoding="utf-8")


def sample_json(relative: str):
    return json.loads(sample_text(relative))


@pytest.fixture(autouse=True)
def _eager_json_tasks(monkeypatch, settings):
    """Run Celery tasks eagerly, but only with arguments that survive a JSON round trip, as a real queue needs."""
    from django.utils import translation

    from accounts.selectors import callback_cache_clear
    from wechat import tokens
    from wxsite.celery import app

    # Tests change token rows and call logs directly and read them back at once.
    # Outside a request (services, tasks) messages come in English; requests pick their language as usual.
    translation.activate("en")
    settings.WECHAT_TOKEN_LOCAL_CACHE_SECONDS = 0
    settings.WECHAT_API_CALL_LOG_BATCH = 1
    settings.WECHAT_RETRY_JITTER = False
    tokens.local_cache_clear()

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    monkeypatch.setitem(app.conf, "task_eager_propagates", True)
    original = Task.apply_async

    def apply_async(self, args=None, kwargs=None, **options):
        args = json.loads(json.dumps(list(args or ())))
        kwargs = json.loads(json.dumps(dict(kwargs or {})))
        options.pop("countdown", None)
        options.pop("eta", None)
        return original(self, args, kwargs, **options)

    monkeypatch.setattr(Task, "apply_async", apply_async)
    callback_cache_clear()
    yield
    translation.deactivate()
    callback_cache_clear()


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

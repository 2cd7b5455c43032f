"""Fixtures shared by every app's tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from celery import Task

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
    from accounts.selectors import callback_cache_clear
    from wxsite.celery import app

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

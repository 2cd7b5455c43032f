"""The processes a bench starts beside itself: the sandbox server (WeChat's stand-in), our web and our workers.

Each runs against the bench's throwaway database, on a free loopback port, and is stopped on exit.
Our processes are told apart from the sandbox server's by CpuMeter(not_ours=[sandbox.pid]).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url(db: dict) -> str:
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def child_env(**extra: str) -> dict:
    """The environment of a process on the bench's database, with the bench's keys and settings."""
    from django.conf import settings

    env = {
        **os.environ,
        "DATABASE_URL": database_url(settings.DATABASES["default"]),
        "SECRET_KEY": settings.SECRET_KEY,
        "SALT_KEY": ",".join(settings.SALT_KEY) if isinstance(settings.SALT_KEY, list | tuple) else settings.SALT_KEY,
        "WXSITE_VAR_DIR": str(settings.VAR_DIR),
        "WECHAT_API_BASE_URL_ALLOW_LOCAL_SANDBOX": "true",
        "SECURE_SSL_REDIRECT": "false",
        # Production settings (no query log in DEBUG's cursor), with the sandbox there to serve.
        "DJANGO_DEBUG": os.environ.get("DJANGO_DEBUG", "false"),
        "SANDBOX_ENABLED": os.environ.get("SANDBOX_ENABLED", "true"),
    }
    env.update(extra)
    return env


def _wait_for_port(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{what} did not start") from None
            time.sleep(0.2)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def sandbox_server(*, latency_ms: int = 0, workers: int = 2, threads: int = 128, fast: bool = True, **env: str):
    """``manage.py sandbox_serve`` on a free port; yields (base URL, process). Stopping it flushes its call records."""
    port = free_port()
    command = [sys.executable, str(ROOT / "manage.py"), "sandbox_serve", "--port", str(port)]
    command += ["--latency-ms", str(latency_ms), "--workers", str(workers), "--threads", str(threads)]
    if fast:
        command.append("--fast")
    process = subprocess.Popen(command, env=child_env(**env), cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        _wait_for_port(port, process, "the sandbox server")
        yield f"http://127.0.0.1:{port}/sandbox/", process
    finally:
        _stop(process)


@contextmanager
def web_server(*, workers: int = 2, threads: int = 8, **env: str):
    """Our web under gunicorn (the real WSGI application) on a free port; yields (base URL, process)."""
    port = free_port()
    command = [str(BIN / "gunicorn"), "wxsite.wsgi:application", "--config", "python:wxsite.gunicorn_conf"]
    command += ["--bind", f"127.0.0.1:{port}"]
    command += ["--worker-class", "gthread", "--workers", str(workers), "--threads", str(threads), "--log-level", "warning"]
    process = subprocess.Popen(command, env=child_env(ALLOWED_HOSTS="127.0.0.1,localhost", **env), cwd=ROOT)
    try:
        _wait_for_port(port, process, "gunicorn")
        yield f"http://127.0.0.1:{port}", process
    finally:
        _stop(process)


@contextmanager
def celery_workers(*, count: int, concurrency: int = 16, **env: str):
    """``count`` Celery worker processes (thread pool) on the real broker."""
    processes = []
    for n in range(count):
        command = [str(BIN / "celery"), "-A", "wxsite", "worker", "--pool", "threads", "--concurrency", str(concurrency)]
        command += ["--hostname", f"bench{n}_{os.getpid()}@%h", "--loglevel", "WARNING", "--without-gossip"]
        command += ["--without-mingle", "--without-heartbeat"]
        processes.append(subprocess.Popen(command, env=child_env(**env), cwd=ROOT, stdout=subprocess.DEVNULL))
    try:
        _wait_for_workers(count, processes)
        yield processes
    finally:
        for process in processes:
            _stop(process)


def _wait_for_workers(count: int, processes: list[subprocess.Popen]) -> None:
    """Until every worker answers a ping, so that timing starts with the workers ready."""
    from wxsite.celery import app

    deadline = time.monotonic() + 60
    while len(app.control.ping(timeout=0.5)) < count:
        if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
            raise SystemExit("the Celery workers did not start")


def sandbox_point(*, account, base_url: str, callback_base: str = "") -> None:
    """Point an account (and its sandbox app) at the served sandbox, and the sandbox's pushes at our web."""
    from accounts.models import OfficialAccount
    from sandbox.models import SandboxApp

    OfficialAccount.objects.filter(pk=account.pk).update(api_base_url=base_url)
    if callback_base:
        SandboxApp.objects.filter(appid=account.appid).update(callback_url=f"{callback_base}{account.callback_path}")
    account.refresh_from_db()

"""Run Django in a subprocess with a chosen environment, as a deployment would start it."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def example_env() -> dict[str, str]:
    """The variables of .env.example (production values), with real-looking keys instead of the placeholders."""
    env = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip()
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    env["SALT_KEY"] = secrets.token_urlsafe(30)
    return env


def embedded_env() -> dict[str, str]:
    """No configuration at all, as on a fresh clone (keys given so var/ is not needed)."""
    return {"SECRET_KEY": secrets.token_urlsafe(50), "SALT_KEY": secrets.token_urlsafe(30)}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """``python <args>`` in the project folder with only ``env`` (plus PATH and HOME) set."""
    base = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "wxsite.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def run_django(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return run(["-c", "import django; django.setup()\n" + code], env)

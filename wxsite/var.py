"""The embedded mode's ``var/`` folder: generated secrets, the SQLite database, the filesystem Celery broker.

Settings only read this folder. ``python -m wxsite.var`` creates what is missing (``make migrate`` and
``make run`` run it, and so does the test suite's conftest); it never replaces an existing secret.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
# Generated in the embedded mode when the environment does not set them; production must set them.
SECRET_NAMES = ("SECRET_KEY", "SALT_KEY")


def read_env() -> environ.Env:
    """The environment as settings see it: variables first, then ``.env`` for the ones not set."""
    env = environ.Env()
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
    return env


def var_dir(env: environ.Env) -> Path:
    return Path(env("WXSITE_VAR_DIR", default="") or BASE_DIR / "var")


def secret_path(root: Path, name: str) -> Path:
    return root / name.lower()


def broker_folders(root: Path) -> dict[str, Path]:
    """Folders of kombu's filesystem transport (messages, processed messages, exchange bindings)."""
    celery = root / "celery"
    return {"data": celery / "broker" / "out", "processed": celery / "processed", "control": celery / "control"}


def var_prepare(env: environ.Env | None = None) -> list[Path]:
    """Create the var folder, the broker folders and, in the embedded mode, the missing secrets; returns what was created."""
    env = env or read_env()
    root = var_dir(env)
    created = []
    for folder in (root, *broker_folders(root).values()):
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            created.append(folder)
    if not env.bool("DJANGO_DEBUG", default=True):
        return created
    for name in SECRET_NAMES:
        path = secret_path(root, name)
        if env(name, default="") or path.exists():
            continue
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process generated it first
            continue
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
        created.append(path)
    return created


if __name__ == "__main__":
    for path in var_prepare():
        print(f"created {path}")

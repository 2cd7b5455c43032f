"""Services start tasks by name: the name finds the registered task, also in a process that imported no tasks module."""

import subprocess
import sys
from pathlib import Path

import pytest
from celery.exceptions import NotRegistered

import jobs
from followers import tasks as follower_tasks

ROOT = Path(__file__).resolve().parent.parent


def test_a_name_gives_the_registered_task():
    assert jobs.task("accounts.tasks.follower_sync_run") is follower_tasks.follower_sync_run._get_current_object()


def test_an_unknown_name_is_refused():
    with pytest.raises(NotRegistered):
        jobs.task("nowhere.tasks.nothing")


def test_a_fresh_web_process_finds_a_task_whose_module_nothing_imported():
    code = (
        "import django; django.setup(); import sys, jobs; "
        "assert 'qrcodes.tasks' not in sys.modules; "
        "print(jobs.task('qrcodes.tasks.qr_scene_sync').name)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"DJANGO_SETTINGS_MODULE": "wxsite.settings", "PATH": "/usr/bin:/bin", "HOME": str(ROOT)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "qrcodes.tasks.qr_scene_sync"

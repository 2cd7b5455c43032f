"""Shared setup for bench scripts: Django on a throwaway database (test_<name>), created and dropped per run."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wxsite.settings")
# Benches reach the sandbox server over HTTP on this machine, http://127.0.0.1:<port>/sandbox/.
os.environ.setdefault("WECHAT_API_BASE_URL_ALLOW_LOCAL_SANDBOX", "true")


@contextmanager
def throwaway_database():
    import django

    django.setup()
    from django.conf import settings
    from django.test.utils import setup_databases, teardown_databases

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        # A file, not :memory:, so that forked workers share it.
        db.setdefault("TEST", {})["NAME"] = str(Path(settings.VAR_DIR) / "bench.sqlite3")
    config = setup_databases(verbosity=0, interactive=False)
    try:
        yield db
    finally:
        from django.db import connection, connections

        from wechat import call_log

        call_log.flush()  # before the database goes, not at exit

        if connection.vendor == "postgresql":
            # Threads of the run may still hold connections; the database cannot be dropped under them.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    [connection.settings_dict["NAME"]],
                )
        connections.close_all()
        teardown_databases(config, verbosity=0)

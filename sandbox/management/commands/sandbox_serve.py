import ipaddress
import os
import shutil
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Command(BaseCommand):
    help = (
        "Serve the sandbox over HTTP on the loopback interface (gunicorn, gthread), as WeChat's API is served: "
        "point an account at http://127.0.0.1:<port>/sandbox/ (WECHAT_API_BASE_URL_ALLOW_LOCAL_SANDBOX=true)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="a loopback address")
        parser.add_argument("--port", type=int, default=8900)
        parser.add_argument("--latency-ms", type=int, default=0, help="WeChat's answer time, slept without holding a worker")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
        parser.add_argument("--threads", type=int, default=128, help="threads per worker: calls waiting out the latency")
        parser.add_argument("--fast", action="store_true", help="SANDBOX_FAST: call records in batches, no quota counters")

    def handle(self, *args, **options):
        if not _loopback(options["host"]):
            raise CommandError("The sandbox answers with WeChat's credentials: serve it on a loopback address only.")
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or shutil.which("gunicorn")
        if gunicorn is None:
            raise CommandError("gunicorn is not installed (requirements/production.txt).")
        env = {
            **os.environ,
            "SANDBOX_SERVER": "true",
            "SANDBOX_FAST": "true" if options["fast"] else os.environ.get("SANDBOX_FAST", "false"),
            "SANDBOX_LATENCY_MS": str(options["latency_ms"]),
        }
        command = [
            gunicorn,
            "sandbox.server:application_build()",
            "--bind",
            f"{options['host']}:{options['port']}",
            "--worker-class",
            "gthread",
            "--workers",
            str(options["workers"]),
            "--threads",
            str(options["threads"]),
            "--keep-alive",
            "75",
            "--log-level",
            "warning",
            "--chdir",
            str(Path(__file__).resolve().parents[3]),
        ]
        self.stdout.write(f"sandbox API: http://{options['host']}:{options['port']}/sandbox/", ending="\n")
        self.stdout.flush()
        os.execve(gunicorn, command, env)  # noqa: S606  gunicorn replaces this process, so a signal to it stops the server

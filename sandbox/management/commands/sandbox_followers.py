import time

from django.core.management.base import BaseCommand, CommandError

from sandbox.generator import followers_generate
from sandbox.models import SandboxApp

from .sandbox_seed import SANDBOX_APPID


class Command(BaseCommand):
    help = "Generate N deterministic followers on WeChat's side of a sandbox app (up to millions), for demos and benches."

    def add_arguments(self, parser):
        parser.add_argument("--appid", default=SANDBOX_APPID, help="sandbox app (default: the make-run sandbox account)")
        parser.add_argument("--n", type=int, default=1000, help="how many followers")
        parser.add_argument("--start", type=int, default=0, help="index of the first follower (existing ones are kept)")

    def handle(self, *args, appid, n, start, **options):
        app = SandboxApp.objects.filter(appid=appid).first()
        if app is None:
            raise CommandError(f"No sandbox app {appid}; run `manage.py sandbox_seed` first.")
        if n < 1 or n > 10_000_000 or start < 0:
            raise CommandError("--n must be 1 to 10,000,000 and --start not negative.")
        began = time.monotonic()
        followers_generate(app=app, n=n, start=start)
        total = app.followers.count()
        self.stdout.write(
            self.style.SUCCESS(f"{n} followers generated for {appid} in {time.monotonic() - began:.1f} s ({total} in total).")
        )

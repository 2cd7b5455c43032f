from django.core.management.base import BaseCommand

from accounts.models import OfficialAccount
from accounts.services import account_upsert
from sandbox.seeding import SEEDERS
from sandbox.services import sandbox_app_configure

SANDBOX_APPID = "wx5a4db0c2d1e3f401"


class Command(BaseCommand):
    help = "Create (or refresh) the offline sandbox account with demo data, so the back office works with no credentials."

    def add_arguments(self, parser):
        parser.add_argument(
            "--served-at",
            default="",
            help="base URL of a sandbox served by sandbox_serve, http://127.0.0.1:<port>/sandbox/ (default: in-process)",
        )
        parser.add_argument(
            "--callback-base", default="http://127.0.0.1:8000", help="where the served sandbox posts the callback"
        )

    def handle(self, *args, **options):
        account, created = account_upsert(
            appid=SANDBOX_APPID,
            name="沙箱公众号 Sandbox",
            secret="sandboxsecret0000000000000000001",
            token="sandboxtoken",
            aes_key="abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            mode=OfficialAccount.EncodingMode.SAFE,
            account_type=OfficialAccount.AccountType.SERVICE,
            verified=True,
        )
        if created or not account.default_reply_text:
            account.default_reply_text = "你好！这是沙箱公众号的默认回复。Hello from the sandbox account."
        OfficialAccount.objects.filter(pk=account.pk).update(is_sandbox=True, default_reply_text=account.default_reply_text)
        app = sandbox_app_configure(account=account, original_id="gh_5a4db0c2d1e3")
        for seed in SEEDERS:
            seed(account=account, app=app)
        if options["served_at"]:
            # The sandbox as its own process over HTTP: our calls and its pushes go through the network stack.
            OfficialAccount.objects.filter(pk=account.pk).update(api_base_url=options["served_at"])
            app.callback_url = options["callback_base"].rstrip("/") + account.callback_path
            app.save(update_fields=["callback_url"])
            account.refresh_from_db()
        self.stdout.write(self.style.SUCCESS(f"Sandbox account ready: {account} → {account.api_base}"))

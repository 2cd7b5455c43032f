from django.core.management.base import BaseCommand

from accounts.models import OfficialAccount
from accounts.services import account_upsert
from sandbox.seeding import SEEDERS
from sandbox.services import sandbox_app_configure

SANDBOX_APPID = "wx5a4db0c2d1e3f401"


class Command(BaseCommand):
    help = "Create (or refresh) the offline sandbox account with demo data, so the back office works with no credentials."

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
        self.stdout.write(self.style.SUCCESS(f"Sandbox account ready: {account} → {account.api_base}"))

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import OfficialAccount
from accounts.services import account_upsert


class Command(BaseCommand):
    help = "Connect a WeChat Official Account (idempotent: running it again updates the account)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--appid", required=True)
        parser.add_argument("--secret", required=True, help="AppSecret (开发者密码)")
        parser.add_argument("--token", required=True, help="the Token entered in the console's server configuration")
        parser.add_argument("--aes-key", default="", help="EncodingAESKey, 43 characters")
        parser.add_argument("--mode", default="", choices=["", *OfficialAccount.EncodingMode.values])
        parser.add_argument("--type", dest="account_type", default="", choices=["", *OfficialAccount.AccountType.values])
        parser.add_argument("--verified", action="store_true", default=None)
        parser.add_argument(
            "--api-base-url",
            default=None,
            help="API base URL for this account only; must be on WECHAT_API_BASE_URL_ALLOWED (default: WECHAT_API_BASE_URL)",
        )

    def handle(self, *args, name, appid, secret, token, aes_key, mode, account_type, verified, api_base_url, **options):
        try:
            account, created = account_upsert(
                appid=appid.strip(),
                name=name.strip(),
                secret=secret.strip(),
                token=token.strip(),
                aes_key=aes_key.strip(),
                mode=mode,
                account_type=account_type,
                verified=verified,
                api_base_url=api_base_url,
            )
        except ValidationError as exc:
            problems = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
            raise CommandError(f"Account not saved. {problems}") from exc
        verb = "Created" if created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} {account}."))
        self.stdout.write(f"Callback URL for the WeChat console (服务器地址(URL)): {account.callback_url}")
        self.stdout.write(f"Token: {account.token}   Encoding mode: {account.get_encoding_mode_display()}")

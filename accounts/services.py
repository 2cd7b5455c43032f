from django.core.exceptions import ValidationError
from django.db import transaction

from .models import OfficialAccount


@transaction.atomic
def account_upsert(
    *,
    appid: str,
    name: str,
    secret: str,
    token: str,
    aes_key: str = "",
    mode: str = "",
    account_type: str = "",
    verified: bool | None = None,
    api_base_url: str | None = None,
) -> tuple[OfficialAccount, bool]:
    """Create or update an account by AppID, validating every value first. Returns (account, created).

    ``api_base_url`` (None: keep; "": WeChat's default) must be on the deployment's allowed list.
    """
    account = OfficialAccount.objects.filter(appid=appid).first()
    created = account is None
    if created:
        account = OfficialAccount(appid=appid)
    account.name = name
    account.app_secret = secret
    account.token = token
    if aes_key:
        account.encoding_aes_key = aes_key
    if mode:
        account.encoding_mode = mode
    elif created:
        account.encoding_mode = OfficialAccount.EncodingMode.SAFE if aes_key else OfficialAccount.EncodingMode.PLAIN
    if account_type:
        account.account_type = account_type
    if verified is not None:
        account.verified = verified
    if api_base_url is not None:
        account.api_base_url = api_base_url.strip()
    account_save(account=account)
    return account, created


def account_clean(*, account: OfficialAccount) -> None:
    """Every check an account must pass before it is saved; raises ValidationError keyed by field."""
    account.full_clean()
    if account.encrypts and not account.encoding_aes_key:
        raise ValidationError({"encoding_aes_key": "Compatible and safe modes need the 43-character EncodingAESKey."})


@transaction.atomic
def account_save(*, account: OfficialAccount, operators=None, administrators=None) -> OfficialAccount:
    """Validate and save an account; ``operators``/``administrators`` (users), when given, replace its access lists."""
    account_clean(account=account)
    account.save()
    if operators is not None:
        account.operators.set(operators)
    if administrators is not None:
        account.administrators.set(administrators)
    return account

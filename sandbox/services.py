from __future__ import annotations

from django.conf import settings

from .models import SandboxApp


def sandbox_app_configure(*, account, original_id: str = "") -> SandboxApp:
    """Mirror an account's console configuration into the sandbox and point the account at it."""
    original_id = original_id or account.original_id or f"gh_{account.appid[2:14]}"
    app, _ = SandboxApp.objects.update_or_create(
        appid=account.appid,
        defaults={
            "secret": account.app_secret,
            "original_id": original_id,
            "callback_token": account.token,
            "encoding_aes_key": account.encoding_aes_key or "",
            "encoding_mode": account.encoding_mode,
            "callback_url": f"http://sandbox.inprocess{account.callback_path}",
            "account_type": account.account_type,
            "verified": account.verified,
        },
    )
    changed = []
    if account.api_base_url != settings.SANDBOX_API_BASE_URL:
        account.api_base_url = settings.SANDBOX_API_BASE_URL
        changed.append("api_base_url")
    if account.original_id != original_id:
        account.original_id = original_id
        changed.append("original_id")
    if changed:
        account.save(update_fields=changed)
    return app

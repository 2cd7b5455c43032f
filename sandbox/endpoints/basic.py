"""access_token, stable_token, jsapi_ticket and getcallbackip (API.md §3, §10)."""

from datetime import timedelta

from ..core import (
    FORCE_REFRESH_MIN_INTERVAL,
    FORCE_REFRESH_PER_DAY,
    STABLE_ROTATE_WITHIN,
    TOKEN_OVERLAP,
    Call,
    SandboxError,
    app_by_appid,
    endpoint,
    new_credential,
)
from ..models import SandboxCredential

Kind = SandboxCredential.Kind


def _check_secret(call: Call, appid: str, secret: str):
    call.app = app_by_appid(appid)
    if not secret or secret != call.app.secret:
        raise SandboxError(40125)
    return call.app


@endpoint("cgi-bin/token", methods=("GET",), auth="none")
def token(call: Call) -> dict:
    if call.query.get("grant_type") != "client_credential":
        raise SandboxError(40002, "invalid grant_type")
    app = _check_secret(call, call.query.get("appid", ""), call.query.get("secret", ""))
    now = call.now()
    # Each call issues a new token; the previous ones keep working for a short overlap only.
    SandboxCredential.objects.filter(
        app=app, kind=Kind.TOKEN, revoked_at__isnull=True, expires_at__gt=now + timedelta(seconds=TOKEN_OVERLAP)
    ).update(expires_at=now + timedelta(seconds=TOKEN_OVERLAP))
    cred = new_credential(app, Kind.TOKEN)
    return {"access_token": cred.value, "expires_in": int((cred.expires_at - now).total_seconds())}


@endpoint("cgi-bin/stable_token", methods=("POST",), auth="none")
def stable_token(call: Call) -> dict:
    data = call.json
    if data.get("grant_type") != "client_credential":
        raise SandboxError(40002, "invalid grant_type")
    app = _check_secret(call, data.get("appid", ""), data.get("secret", ""))
    now = call.now()
    current = (
        SandboxCredential.objects.filter(app=app, kind=Kind.STABLE_TOKEN, revoked_at__isnull=True, expires_at__gt=now)
        .order_by("-issued_at")
        .first()
    )
    if data.get("force_refresh"):
        forced_today = SandboxCredential.objects.filter(app=app, kind=Kind.STABLE_TOKEN, revoked_at__date=now.date()).count()
        if forced_today >= FORCE_REFRESH_PER_DAY:
            raise SandboxError(45009)
        if current and (now - current.issued_at).total_seconds() < FORCE_REFRESH_MIN_INTERVAL:
            raise SandboxError(45011)
        # force_refresh invalidates the previous stable token at once.
        SandboxCredential.objects.filter(app=app, kind=Kind.STABLE_TOKEN, revoked_at__isnull=True).update(revoked_at=now)
        current = None
    if current is None or (current.expires_at - now).total_seconds() < STABLE_ROTATE_WITHIN:
        # Rotation in the last minutes: the old value stays valid until it expires.
        current = new_credential(app, Kind.STABLE_TOKEN)
    return {"access_token": current.value, "expires_in": int((current.expires_at - now).total_seconds())}


@endpoint("cgi-bin/ticket/getticket", methods=("GET",))
def getticket(call: Call) -> dict:
    if call.query.get("type", "jsapi") != "jsapi":
        raise SandboxError(40097, "invalid args")
    now = call.now()
    current = (
        SandboxCredential.objects.filter(app=call.app, kind=Kind.JSAPI_TICKET, revoked_at__isnull=True, expires_at__gt=now)
        .order_by("-issued_at")
        .first()
    )
    if current is None or (current.expires_at - now).total_seconds() < STABLE_ROTATE_WITHIN:
        current = new_credential(call.app, Kind.JSAPI_TICKET)
    return {"errcode": 0, "errmsg": "ok", "ticket": current.value, "expires_in": int((current.expires_at - now).total_seconds())}


@endpoint("cgi-bin/getcallbackip", methods=("GET",))
def getcallbackip(call: Call) -> dict:
    return {"ip_list": ["127.0.0.1", "101.226.103.0/25"]}

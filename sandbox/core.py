"""The sandbox's request pipeline: endpoint registry, WeChat-style errors, tokens, quotas and faults."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from . import fast
from .models import SandboxApp, SandboxCall, SandboxCredential, SandboxFault, SandboxQuota

TOKEN_TTL = 7200
# A token replaced by a new /cgi-bin/token call keeps working this long (API.md §3).
TOKEN_OVERLAP = 300
STABLE_ROTATE_WITHIN = 300
FORCE_REFRESH_PER_DAY = 20
FORCE_REFRESH_MIN_INTERVAL = 30

# Daily quotas by endpoint (API.md §3); endpoints not listed get a generous default.
DAILY_QUOTAS = {
    "cgi-bin/token": 2000,
    "cgi-bin/stable_token": 500_000,
    "cgi-bin/ticket/getticket": 100_000,
    "cgi-bin/menu/create": 1000,
    "cgi-bin/menu/get": 10_000,
    "cgi-bin/menu/delete": 1000,
    "cgi-bin/user/get": 500,
    "cgi-bin/user/info/updateremark": 10_000,
    "cgi-bin/user/info": 5_000_000,
    "cgi-bin/user/info/batchget": 5_000_000,
    "cgi-bin/message/mass/sendall": 100,
    "cgi-bin/message/mass/preview": 100,
    "cgi-bin/qrcode/create": 100_000,
    "cgi-bin/message/template/send": 100_000,
    "cgi-bin/template/api_add_template": 1000,
    "cgi-bin/message/custom/send": 500_000,
    "cgi-bin/message/mass/send": 100,
    "cgi-bin/message/mass/get": 10_000,
    "cgi-bin/message/mass/delete": 1000,
    "cgi-bin/message/mass/speed/get": 1000,
    "cgi-bin/message/mass/speed/set": 1000,
}
DEFAULT_DAILY_QUOTA = 5_000_000

ERRMSGS = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40013: "invalid appid",
    40125: "invalid appsecret",
    41001: "access_token missing",
    42001: "access_token expired",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit  mustslower  retry next minute",
    47001: "data format error",
    48001: "api unauthorized",
    40037: "invalid template_id",
    43101: "user refuse to accept the msg",
    45026: "template size out of limit",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    40007: "invalid media_id",
    40008: "invalid message type",
    40032: "invalid openid list size",
    45028: "has no masssend quota",
    45065: "clientmsgid exist",
    45067: "clientmsgid size out of limit",
    45159: "invalid tag id",
}


class SandboxError(Exception):
    def __init__(self, errcode: int, errmsg: str = ""):
        self.errcode = errcode
        self.errmsg = errmsg or ERRMSGS.get(errcode, "error")
        super().__init__(self.errmsg)

    def body(self) -> dict:
        return {
            "errcode": self.errcode,
            "errmsg": f"{self.errmsg} rid: {secrets.token_hex(4)}-{secrets.token_hex(4)}-{secrets.token_hex(4)}",
        }


@dataclass
class Call:
    """One request to the sandbox, as handlers see it."""

    api: str
    method: str
    query: dict
    body: bytes
    files: dict
    post: dict
    app: SandboxApp | None = None
    credential: SandboxCredential | None = None
    _json: object = field(default=None, repr=False)

    @property
    def json(self) -> dict:
        if self._json is None:
            try:
                self._json = json.loads(self.body.decode("utf-8") or "{}")
            except (UnicodeDecodeError, ValueError) as exc:
                raise SandboxError(47001) from exc
            if not isinstance(self._json, dict):
                raise SandboxError(47001)
        return self._json

    def now(self) -> datetime:
        return app_now(self.app)


@dataclass(frozen=True)
class Endpoint:
    handler: Callable[[Call], dict]
    methods: tuple[str, ...]
    auth: str  # "token": needs a valid access_token; "none": the handler checks what it needs


ENDPOINTS: dict[str, Endpoint] = {}


def endpoint(api: str, *, methods=("GET", "POST"), auth: str = "token"):
    def register(fn):
        ENDPOINTS[api] = Endpoint(fn, tuple(methods), auth)
        return fn

    return register


def app_now(app: SandboxApp | None) -> datetime:
    now = timezone.now()
    return now + timedelta(seconds=app.clock_offset) if app else now


def app_by_appid(appid: str) -> SandboxApp:
    app = SandboxApp.objects.filter(appid=appid or "").first()
    if app is None:
        raise SandboxError(40013)
    return app


def new_credential(app: SandboxApp, kind: str, *, ttl: int = TOKEN_TTL) -> SandboxCredential:
    now = app_now(app)
    value = secrets.token_urlsafe(96)[:128]
    return SandboxCredential.objects.create(
        app=app, kind=kind, value=value, issued_at=now, expires_at=now + timedelta(seconds=ttl)
    )


# Fast mode (a served sandbox under a bench) keeps each token's row, and its app's, this long in the process
# instead of reading them on every call: a token revoked, or an app changed, is seen by the next read.
FAST_CREDENTIAL_SECONDS = 1.0
_fast_credentials: dict[str, tuple[float, SandboxCredential]] = {}


def credential_lookup(token: str) -> SandboxCredential | None:
    """The access_token's row (a token or a stable token), its app loaded with it."""
    return (
        SandboxCredential.objects.select_related("app")
        .filter(value=token, kind__in=[SandboxCredential.Kind.TOKEN, SandboxCredential.Kind.STABLE_TOKEN])
        .first()
    )


def _credential(token: str, lookup: Callable[[str], SandboxCredential | None]) -> SandboxCredential | None:
    if settings.SANDBOX_FAST:
        kept = _fast_credentials.get(token)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
    cred = lookup(token)
    if settings.SANDBOX_FAST and cred is not None:
        if len(_fast_credentials) > 1000:
            _fast_credentials.clear()
        _fast_credentials[token] = (time.monotonic() + FAST_CREDENTIAL_SECONDS, cred)
    return cred


def authenticate(call: Call, lookup: Callable[[str], SandboxCredential | None] = credential_lookup) -> None:
    """The call's token checked as WeChat does (41001, 40001, 42001); ``lookup`` reads a token's row."""
    token = call.query.get("access_token", "")
    if not token:
        raise SandboxError(41001)
    cred = _credential(token, lookup)
    if cred is None or cred.revoked_at is not None:
        raise SandboxError(40001)
    call.app = cred.app
    call.credential = cred
    if cred.expires_at <= call.now():
        raise SandboxError(42001)


def count_quota(app: SandboxApp, api: str) -> None:
    today: date = app_now(app).date()
    counter = SandboxQuota.objects.filter(app=app, api=api, day=today)
    # One statement in the common case; the day's row is created by its first call.
    if counter.filter(count__lt=F("limit")).update(count=F("count") + 1):
        return
    limit = DAILY_QUOTAS.get(api, DEFAULT_DAILY_QUOTA)
    _, created = SandboxQuota.objects.get_or_create(app=app, api=api, day=today, defaults={"limit": limit, "count": 1})
    if created:
        return
    if not counter.filter(count__lt=F("limit")).update(count=F("count") + 1):
        raise SandboxError(45009)


# Whether any fault exists, re-read at most every FAULT_CHECK_SECONDS and at once after a fault is saved or
# deleted in this process: most calls meet no fault and should not pay a query to learn it.
FAULT_CHECK_SECONDS = 1.0
_faults_seen = {"any": True, "until": 0.0}


def faults_changed(**kwargs) -> None:
    _faults_seen["until"] = 0.0


def faults_any(exists: Callable[[], bool] = SandboxFault.objects.exists) -> bool:
    """Whether any fault may apply (see FAULT_CHECK_SECONDS); ``exists`` reads whether a fault row exists."""
    if time.monotonic() >= _faults_seen["until"]:
        _faults_seen.update(any=exists(), until=time.monotonic() + FAULT_CHECK_SECONDS)
    return _faults_seen["any"]


def take_fault(app: SandboxApp | None, api: str, *, besides_latency: bool = False) -> SandboxFault | None:
    if not faults_any():
        return None
    faults = SandboxFault.objects.filter(Q(app__isnull=True) | Q(app=app), api__in=[api, "*"]).order_by("id")
    if besides_latency:
        faults = faults.exclude(kind=SandboxFault.Kind.LATENCY)
    for fault in faults:
        if fault.remaining is None:
            return fault
        if SandboxFault.objects.filter(pk=fault.pk, remaining__gt=0).update(remaining=F("remaining") - 1):
            return fault
    return None


class Timeout(Exception):
    """Tells the transport to report a read timeout to the caller."""


def handle(call: Call) -> tuple[int, dict]:
    """Run one call through faults, auth, quota and the endpoint. Returns (HTTP status, JSON body)."""
    ep = ENDPOINTS.get(call.api)
    if ep is None:
        return 404, {"errcode": 404, "errmsg": f"sandbox has no endpoint {call.api}"}
    if call.method not in ep.methods:
        return 405, {"errcode": 405, "errmsg": "method not allowed"}
    errcode = 0
    fault = None
    try:
        if ep.auth == "token":
            authenticate(call)
        elif call.query.get("appid") or (call.method == "POST" and call.body[:1] == b"{" and call.json.get("appid")):
            call.app = app_by_appid(call.query.get("appid") or call.json.get("appid"))
        fault = take_fault(call.app, call.api)
        if fault is not None and fault.kind == SandboxFault.Kind.LATENCY:
            time.sleep(fault.value / 1000)
            if fault.remaining is None:
                # A standing latency is a slow network: an errcode or timeout fault still applies (a slow failure).
                # A counted one takes the call's turn, so it can also let a number of calls pass untouched.
                fault = take_fault(call.app, call.api, besides_latency=True)
        if fault is not None:
            if fault.kind == SandboxFault.Kind.ERRCODE:
                raise SandboxError(fault.value)
            elif fault.kind == SandboxFault.Kind.TIMEOUT_BEFORE:
                raise Timeout()
        if call.app is not None and not settings.SANDBOX_FAST:
            count_quota(call.app, call.api)
        body = ep.handler(call)
        if fault is not None and fault.kind == SandboxFault.Kind.TIMEOUT_AFTER:
            raise Timeout()
        return 200, body
    except SandboxError as exc:
        errcode = exc.errcode
        if fault is not None and fault.kind == SandboxFault.Kind.TIMEOUT_AFTER:
            raise Timeout() from exc  # the answer is lost whatever it said (45065 included)
        return 200, exc.body()
    finally:
        call_record(call, errcode)


def call_record(call: Call, errcode: int) -> None:
    """The call as the sandbox's log keeps it (``SandboxCall``; in batches in fast mode)."""
    if settings.SANDBOX_FAST:
        fast.call_record(app=call.app, api=call.api, errcode=errcode, request_json=_request_record(call))
    else:
        SandboxCall.objects.create(app=call.app, api=call.api, errcode=errcode, request_json=_request_record(call))


def _request_record(call: Call):
    if call.body[:1] == b"{":
        try:
            data = call.json
        except SandboxError:
            return None
        return {k: v for k, v in data.items() if k != "secret"} if isinstance(data, dict) else None
    return {k: v for k, v in call.query.items() if k not in ("access_token", "secret")} or None

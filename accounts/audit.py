"""The audit trail: who changed what and when, and every WeChat call that changed WeChat state, in one table.

Rule (docs/architecture.md §7, "The audit trail"): every model of the project's own apps (a package beside ``manage.py``), plus users, groups and
API tokens, is registered with django-auditlog when the apps are ready, unless ``EXCLUDED_MODELS`` names it with its
reason (logs, delivery records and rows the system rewrites all day). A model added later by any app is therefore
audited without being listed; a test fails on a model that is neither audited nor excluded. Encrypted fields and
passwords are recorded as changed, never with their values; bookkeeping fields (``NOISE_FIELDS``) are left out.

WeChat calls that may change state (``wechat.api.endpoints.changes_state``) become entries with the action "WeChat
call": endpoint, errcode and meaning. They are written in batches with the call log (``wechat.call_log.record_row``).

The actor is the user of the request (``AuditMiddleware``). A Celery task carries the actor who enqueued it in
a message header (``before_task_publish``) and runs with that actor (``task_prerun``); beat and WeChat's pushes
have none ("system").
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import timedelta
from pathlib import Path

from auditlog.cid import set_cid
from auditlog.registry import auditlog
from celery.signals import before_task_publish, task_postrun, task_prerun
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models.signals import pre_save
from django.utils import timezone
from encrypted_fields.fields import EncryptedFieldMixin

from wechat import call_log
from wechat import signals as wechat_signals
from wechat.api.endpoints import Endpoint
from wechat.errors import describe

from .models import AuditEntry, OfficialAccount

ACTOR_HEADER = "wxsite_actor_id"
# Calls that deliver one message to one follower are not entries of their own: each message has its record (a
# TemplateMessage, an OutboundMessage, audited when created one by one) and the operator's action that sent it (the
# push, the API call, the reply) is in the trail. An entry per message would double what a push costs per message.
DELIVERIES = frozenset({Endpoint.TEMPLATE_SEND.path, Endpoint.CUSTOM_SEND.path, Endpoint.CUSTOM_TYPING.path})
MASK = "******"

# Models not audited, with the reason. A new log or delivery table of any app is added here.
EXCLUDED_MODELS = {
    "accounts.auditentry": "the audit trail itself",
    "wechat.apicalllog": "the call log; calls that change WeChat state are audited as WeChat calls",
    "wechat.accesstoken": "credentials the system refreshes every two hours",
    "followers.follower": "mirror of WeChat's followers, written by syncs and events; operators change followers "
    "through FollowerOperation, which is audited",
    "inbound.inboundmessage": "followers' messages, one row each",
    "inbound.inboundeffectfailure": "failures of inbound side effects, retried by the system",
    "autoreply.autoreplyversion": "snapshots written on every rule save, a history of their own",
    "kefu.conversation": "updated by every follower message",
    "mass.massbatch": "delivery records; each batch's send is audited as a WeChat call",
    "mass.massmessageevent": "event log of a mass send",
    "mass.idempotencykey": "stored API answers",
}
# authtoken.Token is not audited: its primary key is the token itself, which an entry would repeat.
# Apps outside the project's own packages that are audited too, with fields never recorded.
EXTRA_MODELS = {"auth.user": ["last_login"], "auth.group": []}
# The offline WeChat is not the operators' data.
EXCLUDED_APPS = {"sandbox"}
# Counters and timestamps the system moves while it works: not changes anyone made.
NOISE_FIELDS = {
    "updated_at",
    "heartbeat_at",
    "lease_until",
    "page_token",
    "page_offset",
    "sent_count",
    "success_count",
    "failed_count",
    "done",
    "attempt",
    "attempts",
    "follower_count",
    "last_login",
}
SECRET_FIELDS = {"password", "token", "key"}


def mask_secret(value) -> str:
    """``AUDITLOG_MASK_CALLABLE``: a secret is recorded as changed, never with any part of its value."""
    return MASK


def _own_app(app_config) -> bool:
    top = app_config.name.split(".")[0]
    return top not in EXCLUDED_APPS and (Path(settings.BASE_DIR) / top / "__init__.py").is_file()


def audited_models(candidates=None) -> list:
    """Every model the rule audits (see the module's docstring), of ``candidates`` or of all installed models."""
    found = []
    for model in apps.get_models() if candidates is None else candidates:
        label = model._meta.label_lower
        if label in EXCLUDED_MODELS or model._meta.proxy:
            continue
        if label in EXTRA_MODELS or _own_app(model._meta.app_config):
            found.append(model)
    return found


def _fields(model):
    names = {field.name for field in model._meta.concrete_fields}
    secret = {f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedFieldMixin)} | (names & SECRET_FIELDS)
    # Reverse relations are other rows' business: their own entries record them.
    reverse = {f.name for f in model._meta.get_fields() if f.auto_created and not f.concrete}
    exclude = (names & NOISE_FIELDS) | reverse | set(EXTRA_MODELS.get(model._meta.label_lower, []))
    return sorted(exclude - secret), sorted(secret)


def audit_register_all() -> None:
    """Register every audited model with django-auditlog (from ``AccountsConfig.ready``)."""
    for model in audited_models():
        if auditlog.contains(model):
            continue
        exclude, secret = _fields(model)
        auditlog.register(model, exclude_fields=exclude, mask_fields=secret, m2m_fields=_m2m_fields(model))


def _m2m_fields(model) -> set[str]:
    # Grants and group memberships are who-may-do-what: the changes that most need a trail.
    return {field.name for field in model._meta.many_to_many}


# Actor -----------------------------------------------------------------------------------------------------------

_request: ContextVar = ContextVar("audit_request", default=None)
_task_actor: ContextVar = ContextVar("audit_task_actor", default=None)
_task_tokens: dict[str, Token] = {}


class AuditMiddleware:
    """Names the request's user on every audit entry written while the request runs. The user is read when an entry is
    written, so a REST call authenticated by token (which DRF resolves inside the view) is attributed too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        set_cid(request)
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


def current_actor():
    """The user the running request or task acts for, or None (the system)."""
    actor = _task_actor.get()
    if actor is not None:
        return actor
    request = _request.get()
    user = getattr(request, "user", None) if request is not None else None
    return user if user is not None and user.is_authenticated else None


def client_ip(request) -> str | None:
    """The visitor's address. Behind the TLS proxy (``SECURE_PROXY_SSL_HEADER`` set) it is the last X-Forwarded-For
    entry, the one our proxy appended; earlier entries come from the client and prove nothing. Also django-axes'
    ``AXES_CLIENT_IP_CALLABLE``, so a lockout is per visitor, not per proxy."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "") if settings.SECURE_PROXY_SSL_HEADER else ""
    last = forwarded.rsplit(",", 1)[-1].strip()
    return last or request.META.get("REMOTE_ADDR")


def current_remote_addr() -> str | None:
    request = _request.get()
    return client_ip(request) if request is not None else None


@contextmanager
def acting_as(user):
    """Attribute what runs inside to ``user`` (management commands, tests)."""
    token = _task_actor.set(user)
    try:
        yield
    finally:
        _task_actor.reset(token)


@contextmanager
def on_behalf_of(user):
    """Attribute what runs inside to ``user`` unless a request or task already names someone: work that beat starts
    for an operator's row (a scheduled mass send) is theirs."""
    if user is None or current_actor() is not None:
        yield
        return
    with acting_as(user):
        yield


def _stamp_entry(sender, instance, **_kwargs):
    if instance.actor_id is None:
        actor = current_actor()
        if actor is not None:
            instance.actor = actor
            instance.actor_email = getattr(actor, "email", None) or None
    if instance.remote_addr is None:
        instance.remote_addr = current_remote_addr()


def _actor_to_message(headers=None, **_kwargs):
    actor = current_actor()
    if actor is not None and headers is not None:
        headers[ACTOR_HEADER] = actor.pk


def _actor_from_message(task_id=None, task=None, **_kwargs):
    actor_id = getattr(task.request, ACTOR_HEADER, None) if task is not None else None
    if actor_id is None or current_actor() is not None:
        return  # eager tasks run inside the caller's context, which already names the actor
    _task_tokens[task_id] = _task_actor.set(get_user_model().objects.filter(pk=actor_id).first())


def _actor_reset(task_id=None, **_kwargs):
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        _task_actor.reset(token)


# WeChat calls ----------------------------------------------------------------------------------------------------


def account_content_type() -> ContentType:
    return ContentType.objects.get_for_model(OfficialAccount)  # cached by Django after the first call


def _wechat_call_audit(sender, *, account, endpoint, method, errcode, errmsg, **_kwargs):
    if endpoint in DELIVERIES:
        return
    actor = current_actor()
    result = {"method": method, "errmsg": errmsg[:255]}
    if errcode:
        meaning = describe(errcode)
        result.update(meaning_zh=meaning.zh, meaning_en=meaning.en)
    call_log.record_row(
        AuditEntry(
            action=AuditEntry.Action.WECHAT_CALL,
            content_type=account_content_type(),
            object_pk=str(account.pk),
            object_id=account.pk,
            object_repr=str(account),
            account=account,
            endpoint=endpoint[:128],
            errcode=errcode,
            changes={},
            additional_data=result,
            actor=actor,
            actor_email=getattr(actor, "email", None) or None,
            remote_addr=current_remote_addr(),
        )
    )


def connect() -> None:
    """Called once from ``AccountsConfig.ready``."""
    audit_register_all()
    pre_save.connect(_stamp_entry, sender=AuditEntry, dispatch_uid="accounts.audit.stamp_entry")
    wechat_signals.wechat_state_changing_call.connect(_wechat_call_audit, dispatch_uid="accounts.audit.wechat_call")
    before_task_publish.connect(_actor_to_message, dispatch_uid="accounts.audit.actor_to_message", weak=False)
    task_prerun.connect(_actor_from_message, dispatch_uid="accounts.audit.actor_from_message", weak=False)
    task_postrun.connect(_actor_reset, dispatch_uid="accounts.audit.actor_reset", weak=False)


def audit_entries_prune(*, now=None) -> int:
    """Delete entries older than ``AUDIT_ENTRY_DAYS`` (0 keeps them forever). Beat runs it nightly."""
    if settings.AUDIT_ENTRY_DAYS <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=settings.AUDIT_ENTRY_DAYS)
    return AuditEntry.objects.filter(timestamp__lt=cutoff).delete()[0]

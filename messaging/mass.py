"""Mass sends (群发): services and selectors.

A message moves draft → scheduled → sending → sent / partially_failed / failed (or → cancelled before it
starts). The beat task claims due messages with a conditional update and splits the audience into
batches; each batch gets a clientmsgid before any call, is claimed pending → sending before the call, and
a retry (timeout, busy, crashed worker) repeats the call with the same clientmsgid, which WeChat answers
with 45065 and the existing msg_id instead of a second send. A call without a trustworthy answer leaves
the batch "unknown", never "failed": it is repeated with the same clientmsgid while WeChat still
remembers it, and past that window only an operator's explicit choice sends it again. Every state
change is written to ``MassMessageEvent``.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import logging
import re
from collections import Counter
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from wechat.errors import BAD_RESPONSE, CONNECTION_ERROR, TIMEOUT, WeChatError

from .enqueue import task_enqueue
from .models import InboundMessage, MassBatch, MassMessage, MassMessageEvent
from .services import inbound_received

logger = logging.getLogger(__name__)

BATCH_SIZE = 10_000  # WeChat's limit for mass/send
MIN_OPENIDS = 2  # mass/send refuses a list of one
LEASE = timedelta(seconds=settings.MASS_SEND_LEASE_SECONDS)
POLL_AFTER = timedelta(minutes=settings.MASS_JOB_POLL_AFTER_MINUTES)
MAX_CALLS = 8  # per batch, counting retries after timeouts and busy answers
# Answers that do not say whether the send took effect: no answer in time, a dropped connection, an
# unreadable reply, or 45066 (WeChat saw this clientmsgid a moment ago).
OUTCOME_UNKNOWN = {TIMEOUT, CONNECTION_ERROR, BAD_RESPONSE, 45066}
# After the quick retries, the beat repeats an unknown batch's call this often while WeChat remembers its id.
RECONCILE_EVERY = timedelta(minutes=10)
PER_FOLLOWER_MONTHLY = 4  # service accounts: mass messages a follower receives per month (API.md §8)
SUBSCRIPTION_DAILY = 1  # subscription accounts: successful mass sends per day
OPENID_RE = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
FILTER_KEYS = {"tag", "subscribe_scene", "subscribed_after", "subscribed_before"}
MEDIA_TYPES = {MassMessage.MsgType.VOICE, MassMessage.MsgType.VIDEO, MassMessage.MsgType.MPNEWS}
DELETABLE_TYPES = {MassMessage.MsgType.MPNEWS, MassMessage.MsgType.VIDEO}
SPEED_LEVELS = {0: 80, 1: 60, 2: 45, 3: 30, 4: 10}  # speed → about 万 followers per minute

# Status of MASSSENDJOBFINISH when the job stopped: err(num) codes from the official Batch_Sends doc.
JOB_ERRORS = {
    10001: ("涉嫌广告", "Suspected advertising"),
    20001: ("涉嫌政治", "Suspected political content"),
    20004: ("涉嫌社会", "Suspected social content"),
    20002: ("涉嫌色情", "Suspected pornography"),
    20006: ("涉嫌违法犯罪", "Suspected crime"),
    20008: ("涉嫌欺诈", "Suspected fraud"),
    20013: ("涉嫌版权", "Suspected copyright infringement"),
    22000: ("涉嫌互推(互相宣传)", "Suspected cross-promotion"),
    21000: ("涉嫌其他", "Suspected other violation"),
    30001: (
        "原创校验出现系统错误且用户选择了被判为转载就不群发",
        "Originality check failed (system error) and reprints are not to be sent",
    ),
    30002: ("原创校验被判定为不能群发", "Originality check: may not be sent"),
    30003: ("原创校验被判定为转载文且用户选择了被判为转载就不群发", "Judged a reprint, and reprints are not to be sent"),
    40001: ("管理员拒绝", "Refused by the administrator"),
    40002: ("管理员30分钟内无响应，超时", "The administrator did not confirm within 30 minutes"),
}


# Input: normalisation and validation


def openids_parse(text: str = "", *, csv_bytes: bytes | None = None) -> tuple[list[str], list[str]]:
    """OpenIDs from pasted text (any separators) and/or a CSV (first column). Returns (unique valid, invalid)."""
    candidates: list[str] = re.split(r"[\s,;]+", text or "")
    if csv_bytes:
        decoded = csv_bytes.decode("utf-8-sig", "replace")
        for row in csv.reader(io.StringIO(decoded)):
            if row:
                candidates.append(row[0])
    seen: dict[str, None] = {}
    invalid: list[str] = []
    for raw in candidates:
        value = raw.strip().strip('"').strip()
        if not value or value.lower() in ("openid", "open_id"):
            continue
        if OPENID_RE.match(value):
            seen.setdefault(value, None)
        elif value not in invalid:
            invalid.append(value)
    return list(seen), invalid


def mass_message_validate(message: MassMessage) -> None:
    """Raise ValidationError (per field) if the message cannot be sent as composed. Changes nothing."""
    errors: dict[str, list[str]] = {}

    def add(field: str, text: str) -> None:
        errors.setdefault(field, []).append(text)

    t = message.msgtype
    if t not in MassMessage.MsgType.values:
        add("msgtype", _("Unknown message type."))
    if t == MassMessage.MsgType.TEXT and not (message.content or "").strip():
        add("content", _("A text mass send needs some text."))
    if t == MassMessage.MsgType.IMAGE:
        ids = message.media_ids if isinstance(message.media_ids, list) else []
        if not ids or not all(isinstance(m, str) and m.strip() for m in ids):
            add("media_ids", _("An image mass send needs at least one image media_id."))
    if t in MEDIA_TYPES and not (message.media_id or "").strip():
        add("media_id", _("This message type needs a media_id."))
    if t == MassMessage.MsgType.CARD and not (message.card_id or "").strip():
        add("card_id", _("A card mass send needs a card_id."))

    account = message.account
    subscription = account.account_type == account.AccountType.SUBSCRIPTION
    if message.audience == MassMessage.Audience.TAG:
        tag = message.tag
        if tag is None:
            add("tag", _("Choose the tag to send to."))
        elif tag.account_id != account.pk:
            add("tag", _("That tag belongs to another account."))
        elif tag.wechat_id is None:
            add("tag", _("That tag does not exist on WeChat yet (not synced); sync it first."))
    elif message.audience in (MassMessage.Audience.OPENIDS, MassMessage.Audience.FILTER):
        if subscription:
            add(
                "audience",
                _("Subscription accounts cannot send to an OpenID list (mass/send is for service accounts); use all or a tag."),
            )
        if message.audience == MassMessage.Audience.OPENIDS:
            ids = message.openids if isinstance(message.openids, list) else []
            bad = [o for o in ids if not isinstance(o, str) or not OPENID_RE.match(o)]
            if bad:
                add("openids", _("Not OpenIDs: %(list)s") % {"list": ", ".join(map(str, bad[:5]))})
            elif len(set(ids)) < MIN_OPENIDS:
                add("openids", _("A send by OpenID list needs at least 2 OpenIDs (use preview for one person)."))
        else:
            _validate_filter(message, add)
    elif message.audience != MassMessage.Audience.ALL:
        add("audience", _("Unknown audience."))
    if errors:
        raise ValidationError(errors)


def _validate_filter(message: MassMessage, add) -> None:
    spec = message.follower_filter if isinstance(message.follower_filter, dict) else None
    if not spec:
        add("follower_filter", _("Set at least one filter condition."))
        return
    unknown = set(spec) - FILTER_KEYS
    if unknown:
        add("follower_filter", _("Unknown filter keys: %(keys)s") % {"keys": ", ".join(sorted(unknown))})
    for key in ("subscribed_after", "subscribed_before"):
        if spec.get(key):
            try:
                date.fromisoformat(str(spec[key]))
            except ValueError:
                add("follower_filter", _("%(key)s must be a date (YYYY-MM-DD).") % {"key": key})
    tag = spec.get("tag")
    if tag is not None and (isinstance(tag, bool) or not isinstance(tag, int)):
        add("follower_filter", _("The filter's tag must be a tag id (a whole number)."))
    elif tag and not message.account.tags.filter(pk=tag).exists():
        add("follower_filter", _("The filter's tag does not belong to this account."))
    if not isinstance(spec.get("subscribe_scene", ""), str):
        add("follower_filter", _("subscribe_scene must be text, e.g. ADD_SCENE_QR_CODE."))


# Audience


def _followers(account):
    from followers.models import Follower

    return Follower.objects.filter(account=account, subscribed=True, blacklisted=False)


def _filtered_followers(message: MassMessage):
    spec = message.follower_filter or {}
    qs = _followers(message.account)
    if spec.get("tag"):
        qs = qs.filter(tags__pk=spec["tag"])
    if spec.get("subscribe_scene"):
        qs = qs.filter(subscribe_scene=spec["subscribe_scene"])
    if spec.get("subscribed_after"):
        qs = qs.filter(subscribe_time__date__gte=date.fromisoformat(str(spec["subscribed_after"])))
    if spec.get("subscribed_before"):
        qs = qs.filter(subscribe_time__date__lte=date.fromisoformat(str(spec["subscribed_before"])))
    return qs


def audience_openids(message: MassMessage) -> list[str] | None:
    """The OpenIDs for a list or filter audience; None for all / tag (WeChat resolves those)."""
    if message.audience == MassMessage.Audience.OPENIDS:
        return list(dict.fromkeys(message.openids or []))
    if message.audience == MassMessage.Audience.FILTER:
        return list(_filtered_followers(message).order_by("id").values_list("openid", flat=True).distinct())
    return None


def audience_size(message: MassMessage) -> int:
    """Recipients as far as our records know (WeChat's TotalCount is the final word for all / tag)."""
    if message.audience == MassMessage.Audience.ALL:
        return _followers(message.account).count()
    if message.audience == MassMessage.Audience.TAG:
        if message.tag is None:
            return 0
        local = _followers(message.account).filter(tags=message.tag).count()
        return local or message.tag.follower_count
    return len(audience_openids(message) or [])


def batches_split(openids: list[str], size: int | None = None) -> list[list[str]]:
    """Chunks of at most ``size``; a last chunk of one borrows from the previous (WeChat needs ≥ 2)."""
    size = size or BATCH_SIZE
    chunks = [openids[i : i + size] for i in range(0, len(openids), size)]
    if len(chunks) > 1 and len(chunks[-1]) < MIN_OPENIDS:
        chunks[-1].insert(0, chunks[-2].pop())
    return chunks


def clientmsgid_for(message: MassMessage, index: int, version: int | None = None) -> str:
    """Stable id for one batch: message id, version and batch index, plus a short installation digest.

    The digest keeps two installations (staging and production on one account) from sharing ids.
    """
    version = message.version if version is None else version
    base = f"m{message.pk}v{version}b{index}"
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{message.account.appid}:{base}".encode(), hashlib.sha256).hexdigest()
    return f"{base}-{digest[: max(4, 31 - len(base))]}"[:32]


# Quota (API.md §8)


def _month_start(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _day_start(now: datetime) -> datetime:
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def mass_quota_for(*, message: MassMessage, now: datetime | None = None) -> dict:
    """What the confirmation page shows: audience size and what is left of the account's quota."""
    now = now or timezone.now()
    account = message.account
    size = audience_size(message)
    # A batch with an unknown outcome may have reached its followers: it counts, from its first call.
    ok_batches = (
        MassBatch.objects.filter(message__account=account, status__in=(*MassBatch.OK, MassBatch.Status.UNKNOWN))
        .exclude(message=message)
        .alias(sent_at=Coalesce("submitted_at", "first_called_at"))
    )
    info = {"account_type": account.account_type, "audience_size": size, "verified": account.verified}
    if account.account_type == account.AccountType.SUBSCRIPTION:
        sent_today = ok_batches.filter(sent_at__gte=_day_start(now)).values("message").distinct().count()
        info.update(
            sends_today=sent_today, daily_limit=SUBSCRIPTION_DAILY, remaining_today=max(0, SUBSCRIPTION_DAILY - sent_today)
        )
        return info
    at_limit = _followers_at_monthly_limit(message, ok_batches.filter(sent_at__gte=_month_start(now)))
    info.update(monthly_limit=PER_FOLLOWER_MONTHLY, at_limit=at_limit, will_receive=max(0, size - at_limit))
    return info


def _followers_at_monthly_limit(message: MassMessage, month_batches) -> int:
    """How many of the audience already got 4 mass messages this month, by our own records.

    All-follower and tag sends count for the followers who are (now) subscribed / in the tag.
    """
    from followers.models import Follower

    sends_all = month_batches.filter(message__audience=MassMessage.Audience.ALL).count()
    per_tag = Counter(month_batches.filter(tag_wechat_id__isnull=False).values_list("tag_wechat_id", flat=True))
    per_openid: Counter = Counter()
    for ids in month_batches.exclude(openids=[]).values_list("openids", flat=True).iterator():
        per_openid.update(ids)
    if message.audience in (MassMessage.Audience.ALL, MassMessage.Audience.TAG):
        qs = _followers(message.account)
        if message.audience == MassMessage.Audience.TAG:
            qs = qs.filter(tags=message.tag) if message.tag else qs.none()
        audience = list(qs.values_list("openid", flat=True))
    else:
        audience = audience_openids(message) or []
    if sends_all >= PER_FOLLOWER_MONTHLY:
        return len(audience)
    tags_of: dict[str, list[int]] = {}
    if per_tag:
        rows = Follower.objects.filter(account=message.account, openid__in=audience, tags__wechat_id__in=list(per_tag))
        for openid, wechat_id in rows.values_list("openid", "tags__wechat_id").iterator():
            tags_of.setdefault(openid, []).append(wechat_id)
    count = 0
    for openid in audience:
        received = sends_all + per_openid[openid] + sum(per_tag[t] for t in tags_of.get(openid, ()))
        if received >= PER_FOLLOWER_MONTHLY:
            count += 1
    return count


# State machine


def _log(message_id, old, new, *, actor=None, actor_label="", reason="", batch=None) -> None:
    MassMessageEvent.objects.create(
        message_id=message_id,
        batch=batch,
        old_status=old or "",
        new_status=new or "",
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=actor_label[:32],
        reason=reason,
    )


def _transition(message_id: int, from_: tuple, to: str, *, actor=None, actor_label="", reason="", **fields) -> str | None:
    """Conditional update from one of ``from_`` to ``to``. Returns the old status, or None if none matched."""
    for old in from_:
        if MassMessage.objects.filter(pk=message_id, status=old).update(status=to, updated_at=timezone.now(), **fields):
            _log(message_id, old, to, actor=actor, actor_label=actor_label, reason=reason)
            logger.info("mass_send.transition", extra={"message_id": message_id, "from": old, "to": to})
            return old
    return None


def mass_message_create(*, account, actor=None, **fields) -> MassMessage:
    """Store a draft after validation. ``openids`` may be any list; it is normalised."""
    if fields.get("openids"):
        valid, invalid = openids_parse("\n".join(map(str, fields["openids"])))
        if invalid:
            raise ValidationError({"openids": _("Not OpenIDs: %(list)s") % {"list": ", ".join(invalid[:5])}})
        fields["openids"] = valid
    message = MassMessage(account=account, created_by=actor if getattr(actor, "pk", None) else None, **fields)
    mass_message_validate(message)
    with transaction.atomic():
        message.save()
        _log(message.pk, "", MassMessage.Status.DRAFT, actor=actor, reason=_("created"))
    return message


_EDITABLE_FIELDS = (
    "account",
    "title",
    "msgtype",
    "content",
    "media_id",
    "media_ids",
    "recommend",
    "need_open_comment",
    "only_fans_can_comment",
    "video_title",
    "video_description",
    "card_id",
    "send_ignore_reprint",
    "audience",
    "tag",
    "openids",
    "follower_filter",
)


def mass_message_save(*, message: MassMessage, actor=None, created: bool) -> MassMessage:
    """Save what the operator composed. An existing message is only changed while draft or scheduled."""
    mass_message_validate(message)
    with transaction.atomic():
        if created:
            message.status = MassMessage.Status.DRAFT
            message.created_by = actor if getattr(actor, "pk", None) else None
            message.save()
            _log(message.pk, "", MassMessage.Status.DRAFT, actor=actor, reason=_("created"))
            return message
        values = {f: getattr(message, f) for f in _EDITABLE_FIELDS}
        if not MassMessage.objects.filter(pk=message.pk, status__in=MassMessage.EDITABLE).update(
            updated_at=timezone.now(), **values
        ):
            raise ValidationError(_("This message started sending meanwhile and can no longer be changed."))
        current = MassMessage.objects.values_list("status", flat=True).get(pk=message.pk)
        _log(message.pk, current, current, actor=actor, reason=_("edited"))
    message.refresh_from_db()
    return message


def mass_message_schedule(*, message: MassMessage, at: datetime | None = None, actor=None, actor_label="") -> MassMessage:
    """Schedule (or reschedule) a draft or scheduled message; ``at`` None or past means now."""
    message.refresh_from_db()
    if message.recurring_task_id:
        raise ValidationError(
            _("This draft is the template of a recurring send; each run sends a copy. Remove the recurrence to send it once.")
        )
    mass_message_validate(message)
    now = timezone.now()
    when = at or now
    reason = (
        _("send now") if when <= now else _("send at %(at)s") % {"at": timezone.localtime(when).isoformat(timespec="minutes")}
    )
    with transaction.atomic():
        old = _transition(
            message.pk,
            (MassMessage.Status.DRAFT, MassMessage.Status.SCHEDULED),
            MassMessage.Status.SCHEDULED,
            actor=actor,
            actor_label=actor_label,
            reason=reason,
            scheduled_at=when,
        )
        if old is None:
            raise ValidationError(
                _("Only a draft or scheduled message can be scheduled (this one is %(status)s).")
                % {"status": message.get_status_display()}
            )
        if when <= now:
            message_id = message.pk
            transaction.on_commit(lambda: _enqueue_dispatch(message_id))
    message.refresh_from_db()
    return message


def mass_message_cancel(*, message: MassMessage, actor=None, reason: str = "") -> MassMessage:
    old = _transition(
        message.pk,
        (MassMessage.Status.SCHEDULED, MassMessage.Status.DRAFT),
        MassMessage.Status.CANCELLED,
        actor=actor,
        reason=reason or _("cancelled by the operator"),
        finished_at=timezone.now(),
    )
    if old is None:
        message.refresh_from_db()
        raise ValidationError(
            _("Only a draft or scheduled message can be cancelled; this one is %(status)s.")
            % {"status": message.get_status_display()}
        )
    message.refresh_from_db()
    return message


def _enqueue_dispatch(message_id: int) -> None:
    """Start a "send now" message. If the broker is down the row stays scheduled and due: beat starts it."""
    from .mass_tasks import mass_message_dispatch

    task_enqueue(mass_message_dispatch, message_id)


def _enqueue_batch(batch_id: int) -> None:
    from .mass_tasks import mass_batch_send

    mass_batch_send.delay(batch_id)


def mass_message_dispatch(*, message_id: int, actor_label: str = "dispatcher", now: datetime | None = None) -> bool:
    """Claim one due message (scheduled → sending) and create its batches. False if someone else has it."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = MassMessage.objects.filter(pk=message_id, status=MassMessage.Status.SCHEDULED, scheduled_at__lte=now).update(
            status=MassMessage.Status.SENDING, started_at=now, updated_at=now
        )
        if not claimed:
            return False
        message = MassMessage.objects.select_related("account", "tag").get(pk=message_id)
        try:
            specs = _batch_specs(message)
        except ValidationError as exc:
            reason = "; ".join(exc.messages)
            MassMessage.objects.filter(pk=message_id).update(status=MassMessage.Status.FAILED, last_error=reason, finished_at=now)
            _log(message_id, MassMessage.Status.SCHEDULED, MassMessage.Status.FAILED, actor_label=actor_label, reason=reason)
            return True
        _log(
            message_id,
            MassMessage.Status.SCHEDULED,
            MassMessage.Status.SENDING,
            actor_label=actor_label,
            reason=_("%(n)d batch(es), %(size)d recipients") % {"n": len(specs), "size": sum(s["recipients"] for s in specs)},
        )
        batches = MassBatch.objects.bulk_create(
            [
                MassBatch(
                    message=message,
                    index=i,
                    clientmsgid=clientmsgid_for(message, i),
                    lease_until=now + LEASE,
                    **spec,
                )
                for i, spec in enumerate(specs)
            ]
        )
        ids = [b.pk for b in batches] or list(message.batches.values_list("pk", flat=True))
        transaction.on_commit(lambda: [_enqueue_batch(pk) for pk in ids])
    return True


def _batch_specs(message: MassMessage) -> list[dict]:
    if message.audience == MassMessage.Audience.ALL:
        return [{"recipients": audience_size(message)}]
    if message.audience == MassMessage.Audience.TAG:
        tag = message.tag
        if tag is None or tag.wechat_id is None:
            raise ValidationError(_("The tag was deleted (or is no longer on WeChat) after the send was scheduled."))
        return [{"tag_wechat_id": tag.wechat_id, "recipients": audience_size(message)}]
    openids = audience_openids(message) or []
    if len(openids) < MIN_OPENIDS:
        raise ValidationError(_("The audience is empty (fewer than 2 followers match)."))
    return [{"openids": chunk, "recipients": len(chunk)} for chunk in batches_split(openids)]


def mass_dispatch_due(*, now: datetime | None = None) -> dict:
    """Beat, every minute: start due messages, then recover stuck or never-enqueued batches."""
    now = now or timezone.now()
    due = list(
        MassMessage.objects.filter(status=MassMessage.Status.SCHEDULED, scheduled_at__lte=now)
        .order_by("scheduled_at")
        .values_list("pk", flat=True)[:100]
    )
    started = sum(1 for pk in due if mass_message_dispatch(message_id=pk, actor_label="beat", now=now))
    recovered = mass_batches_recover(now=now)
    return {"started": started, "recovered": recovered}


def _callable(now: datetime) -> Q:
    """Batches a worker may call now: pending ones, and unknown ones whose clientmsgid WeChat still remembers."""
    return Q(status=MassBatch.Status.PENDING) | Q(
        status=MassBatch.Status.UNKNOWN, first_called_at__gt=now - MassBatch.SAME_ID_RESEND_WITHIN
    )


def mass_batches_recover(*, now: datetime | None = None) -> int:
    """Batches whose worker died mid-call (lease over) become unknown; pending batches past their lease and
    unknown ones still inside the clientmsgid window are re-enqueued (same clientmsgid); unknown ones past
    it are left for an operator, and their message settles. Returns how many batches were re-enqueued."""
    now = now or timezone.now()
    count = 0
    for batch in MassBatch.objects.filter(status=MassBatch.Status.SENDING, lease_until__lt=now).select_related("message"):
        if MassBatch.objects.filter(pk=batch.pk, status=MassBatch.Status.SENDING, lease_until=batch.lease_until).update(
            status=MassBatch.Status.UNKNOWN,
            outcome_unknown=True,
            lease_until=now,
            first_called_at=Coalesce(F("first_called_at"), Value(batch.lease_until - LEASE)),
        ):
            _log(
                batch.message_id,
                MassMessage.Status.SENDING,
                MassMessage.Status.SENDING,
                actor_label="beat",
                batch=batch,
                reason=_(
                    "batch %(i)d: worker lease expired during the call, so WeChat may have sent it (outcome unknown); "
                    "repeating the call with the same clientmsgid %(id)s"
                )
                % {"i": batch.index, "id": batch.clientmsgid},
            )
    due = MassBatch.objects.filter(_callable(now), lease_until__lte=now, message__status=MassMessage.Status.SENDING)
    for batch in due:
        if MassBatch.objects.filter(pk=batch.pk, status=batch.status, lease_until=batch.lease_until).update(
            lease_until=now + LEASE
        ):
            batch_id = batch.pk
            transaction.on_commit(lambda batch_id=batch_id: _enqueue_batch(batch_id))
            count += 1
    closed = MassBatch.objects.filter(
        status=MassBatch.Status.UNKNOWN,
        first_called_at__lte=now - MassBatch.SAME_ID_RESEND_WITHIN,
        message__status=MassMessage.Status.SENDING,
    )
    for message_id in set(closed.values_list("message_id", flat=True)):
        mass_message_settle(message_id=message_id, now=now)
    return count


# Sending one batch


def _payload(message: MassMessage) -> dict:
    t = message.msgtype
    if t == MassMessage.MsgType.TEXT:
        return {"msgtype": "text", "text": {"content": message.content}}
    if t == MassMessage.MsgType.IMAGE:
        return {
            "msgtype": "image",
            "images": {
                "media_ids": list(message.media_ids),
                "recommend": message.recommend,
                "need_open_comment": int(message.need_open_comment),
                "only_fans_can_comment": int(message.only_fans_can_comment),
            },
        }
    if t == MassMessage.MsgType.VOICE:
        return {"msgtype": "voice", "voice": {"media_id": message.media_id}}
    if t == MassMessage.MsgType.VIDEO:
        video = {"media_id": message.media_id}
        if message.video_title:
            video["title"] = message.video_title
        if message.video_description:
            video["description"] = message.video_description
        return {"msgtype": "mpvideo", "mpvideo": video}
    if t == MassMessage.MsgType.MPNEWS:
        return {
            "msgtype": "mpnews",
            "mpnews": {"media_id": message.media_id},
            "send_ignore_reprint": int(message.send_ignore_reprint),
        }
    return {"msgtype": "wxcard", "wxcard": {"card_id": message.card_id}}


def _request(batch: MassBatch) -> tuple[str, dict]:
    body = _payload(batch.message)
    body["clientmsgid"] = batch.clientmsgid
    if batch.openids:
        return "message/mass/send", {"touser": list(batch.openids), **body}
    if batch.tag_wechat_id is not None:
        return "message/mass/sendall", {"filter": {"is_to_all": False, "tag_id": batch.tag_wechat_id}, **body}
    return "message/mass/sendall", {"filter": {"is_to_all": True}, **body}


def error_body(exc: WeChatError) -> dict:
    """The JSON WeChat answered with an error (45065 carries the existing msg_id there)."""
    if exc.response:
        return exc.response
    response = getattr(exc.__cause__, "response", None)
    if response is None:
        return {}
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _retry_delay(attempts: int) -> int:
    return min(300, 2 ** max(0, attempts - 1) * 5)


def mass_batch_send(*, batch_id: int) -> dict:
    """Call WeChat for one batch, at most once at a time. Returns {"status", "retry_in"?}.

    The caller (a Celery task) enqueues the next try after ``retry_in`` seconds; the same clientmsgid makes
    that safe, and the batch's lease lets the beat recover it if that task is lost. An unknown batch is only
    called again while WeChat still remembers its clientmsgid.
    """
    from wechat.gateway import client_for

    now = timezone.now()
    if not MassMessage.objects.filter(batches__pk=batch_id, status=MassMessage.Status.SENDING).exists():
        return {"status": "not_claimed"}
    # No join in the claim: PostgreSQL re-checks only the row's own columns after waiting on a concurrent update.
    claimed = MassBatch.objects.filter(_callable(now), pk=batch_id).update(
        status=MassBatch.Status.SENDING,
        lease_until=now + LEASE,
        attempts=F("attempts") + 1,
        first_called_at=Coalesce(F("first_called_at"), Value(now)),
    )
    if not claimed:
        return {"status": "not_claimed"}
    batch = MassBatch.objects.select_related("message__account").get(pk=batch_id)
    message = batch.message
    path, body = _request(batch)
    try:
        result = client_for(message.account).post(path, data=body)
    except WeChatError as exc:
        if exc.errcode == 45065:
            result = error_body(exc)
            logger.info("mass_send.duplicate_clientmsgid", extra={"batch_id": batch_id, "msg_id": result.get("msg_id")})
        else:
            return _batch_call_failed(batch, exc)
    _batch_submitted(batch, result)
    mass_message_settle(message_id=message.pk)
    return {"status": "submitted", "msg_id": str(result.get("msg_id", ""))}


def _batch_call_failed(batch: MassBatch, exc: WeChatError) -> dict:
    """Record a call that did not succeed: retry, wait as unknown, or (only if no call may have taken effect) fail."""
    unknown = batch.outcome_unknown or exc.errcode in OUTCOME_UNKNOWN
    retry = exc.is_transient and batch.attempts < MAX_CALLS
    if not retry and not unknown:
        _batch_failed(batch, exc)
        mass_message_settle(message_id=batch.message_id)
        return {"status": "failed", "errcode": exc.errcode}
    if retry:
        delay = 60 if exc.errcode == 45066 else _retry_delay(batch.attempts)
        wait = timedelta(seconds=delay) + LEASE
        reason = _("batch %(i)d: %(error)s; retrying in %(s)d s with the same clientmsgid") % {
            "i": batch.index,
            "error": exc.display,
            "s": delay,
        }
        result = {"status": "retry", "retry_in": delay}
    else:
        wait = RECONCILE_EVERY
        reason = _(
            "batch %(i)d: %(error)s; WeChat may have sent it (outcome unknown). The beat repeats the call with the "
            "same clientmsgid until %(until)s; it is never sent under a new one without an operator's decision"
        ) % {
            "i": batch.index,
            "error": exc.display,
            "until": timezone.localtime(batch.same_id_resend_until).isoformat(timespec="minutes"),
        }
        result = {"status": "unknown", "errcode": exc.errcode}
    MassBatch.objects.filter(pk=batch.pk, status=MassBatch.Status.SENDING).update(
        status=MassBatch.Status.UNKNOWN if unknown else MassBatch.Status.PENDING,
        outcome_unknown=unknown,
        lease_until=timezone.now() + wait,
        errcode=exc.errcode,
        errmsg=exc.errmsg[:255],
    )
    _log(
        batch.message_id,
        MassMessage.Status.SENDING,
        MassMessage.Status.SENDING,
        actor_label="worker",
        batch=batch,
        reason=reason,
    )
    if not retry:
        logger.warning("mass_send.batch_outcome_unknown", extra={"batch_id": batch.pk, "errcode": exc.errcode})
        mass_message_settle(message_id=batch.message_id)
    return result


def _batch_submitted(batch: MassBatch, result: dict) -> None:
    msg_id = str(result.get("msg_id") or "")
    MassBatch.objects.filter(pk=batch.pk).update(
        status=MassBatch.Status.SUBMITTED,
        msg_id=msg_id,
        msg_data_id=str(result.get("msg_data_id") or ""),
        errcode=None,
        errmsg="",
        outcome_unknown=False,
        submitted_at=timezone.now(),
        lease_until=None,
    )
    logger.info("mass_send.batch_sent", extra={"batch_id": batch.pk, "msg_id": msg_id})
    # The job-finish event may have arrived before we stored the msg_id.
    early = (
        InboundMessage.objects.filter(account_id=batch.message.account_id, msg_id=msg_id, event__iexact="MASSSENDJOBFINISH")
        .order_by("id")
        .first()
    )
    if msg_id and early is not None:
        mass_job_finished(account=batch.message.account, data=early.payload)


def _batch_failed(batch: MassBatch, exc: WeChatError) -> None:
    MassBatch.objects.filter(pk=batch.pk).update(
        status=MassBatch.Status.FAILED, errcode=exc.errcode, errmsg=exc.errmsg[:255], lease_until=None, finished_at=timezone.now()
    )
    MassMessage.objects.filter(pk=batch.message_id).update(errcode=exc.errcode, last_error=exc.display)
    logger.warning("mass_send.batch_failed", extra={"batch_id": batch.pk, "errcode": exc.errcode})


def mass_message_resend(*, message: MassMessage, actor=None, past_window: bool = False) -> dict:
    """Resend what did not go out. Returns how many batches took each way: {"rejected", "same_id", "past_window"}.

    - rejected (WeChat refused it, or its job failed): a new clientmsgid under the next version;
    - outcome unknown, WeChat still remembers the clientmsgid: the same clientmsgid, so WeChat answers 45065
      if it sent it, or sends it now; exactly once either way;
    - outcome unknown past that window: only with ``past_window`` (an operator's explicit choice, after
      checking WeChat's 群发记录), under a new clientmsgid, because a follower may get it twice.
    Accepted batches are never touched. Raises ValidationError, changing nothing, when there is nothing to do.
    """
    mass_message_validate(message)
    now = timezone.now()
    with transaction.atomic():
        batches = list(
            MassBatch.objects.select_for_update()
            .filter(message_id=message.pk, status__in=(MassBatch.Status.FAILED, MassBatch.Status.UNKNOWN))
            .order_by("index")
        )
        rejected = [b for b in batches if b.status == MassBatch.Status.FAILED]
        same_id = [b for b in batches if b.status == MassBatch.Status.UNKNOWN and b.same_id_resend_open(now)]
        late = [b for b in batches if b.status == MassBatch.Status.UNKNOWN and not b.same_id_resend_open(now)]
        renew = rejected + (late if past_window else [])
        if not renew and not same_id:
            if late:
                raise ValidationError(
                    _(
                        "%(n)d batch(es) have an unknown outcome and WeChat no longer remembers their clientmsgid "
                        "(24 hours): a resend could reach followers twice. Check 群发记录 in the WeChat console, "
                        "then use “Resend unknown batches past the 24-hour window” if it was not sent."
                    )
                    % {"n": len(late)}
                )
            raise ValidationError(_("Nothing to resend: no batch of this message was rejected or has an unknown outcome."))
        current = MassMessage.objects.values_list("status", flat=True).get(pk=message.pk)
        resendable = (MassMessage.Status.SENDING, MassMessage.Status.FAILED, MassMessage.Status.PARTIALLY_FAILED)
        if current not in resendable:
            raise ValidationError(_("Only a sending, failed or partially failed send can be resent."))
        parts = []
        if rejected:
            parts.append(_("%(n)d rejected batch(es) under new clientmsgids") % {"n": len(rejected)})
        if same_id:
            parts.append(_("%(n)d batch(es) with an unknown outcome under the same clientmsgid") % {"n": len(same_id)})
        if past_window and late:
            parts.append(
                _("%(n)d batch(es) with an unknown outcome past the 24-hour window under new clientmsgids (operator's choice)")
                % {"n": len(late)}
            )
        version = message.version + 1 if renew else message.version
        reason = _("resending %(what)s (version %(v)d)") % {"what": "; ".join(parts), "v": version}
        fields = {"errcode": None, "last_error": "", "finished_at": None}
        if renew:
            fields["version"] = F("version") + 1
        if current == MassMessage.Status.SENDING:
            MassMessage.objects.filter(pk=message.pk).update(updated_at=now, **fields)
            _log(message.pk, current, current, actor=actor, reason=reason)
        elif _transition(message.pk, (current,), MassMessage.Status.SENDING, actor=actor, reason=reason, **fields) is None:
            raise ValidationError(_("This send changed meanwhile; reload the page and try again."))
        message.refresh_from_db()
        for batch in renew:
            MassBatch.objects.filter(pk=batch.pk).update(
                status=MassBatch.Status.PENDING,
                clientmsgid=clientmsgid_for(message, batch.index),
                lease_until=now + LEASE,
                attempts=0,
                first_called_at=None,
                outcome_unknown=False,
                msg_id="",
                msg_data_id="",
                job_status="",
                finished_at=None,
            )
        MassBatch.objects.filter(pk__in=[b.pk for b in same_id]).update(lease_until=now + LEASE)
        ids = [b.pk for b in renew + same_id]
        transaction.on_commit(lambda: [_enqueue_batch(pk) for pk in ids])
    logger.info(
        "mass_send.resend",
        extra={"message_id": message.pk, "rejected": len(rejected), "same_id": len(same_id), "late": len(late)},
    )
    return {"rejected": len(rejected), "same_id": len(same_id), "past_window": len(late) if past_window else 0}


def mass_message_settle(*, message_id: int, now: datetime | None = None) -> str | None:
    """When every batch has an outcome, move the message to sent / partially_failed / failed.

    A batch with an unknown outcome counts as settled (and not sent) only once WeChat may have forgotten its
    clientmsgid; until then the beat is still finding out.
    """
    now = now or timezone.now()
    rows = list(MassBatch.objects.filter(message_id=message_id).values_list("status", "first_called_at"))
    closed_before = now - MassBatch.SAME_ID_RESEND_WITHIN
    unknown = [first for status, first in rows if status == MassBatch.Status.UNKNOWN]
    if any(first is not None and first > closed_before for first in unknown):
        return None
    statuses = [status for status, _first in rows]
    if not statuses or any(s not in MassBatch.SETTLED and s != MassBatch.Status.UNKNOWN for s in statuses):
        return None
    ok = sum(1 for s in statuses if s in MassBatch.OK)
    if ok == len(statuses):
        new = MassMessage.Status.SENT
    elif ok:
        new = MassMessage.Status.PARTIALLY_FAILED
    else:
        new = MassMessage.Status.FAILED
    current = MassMessage.objects.filter(pk=message_id).values_list("status", flat=True).first()
    if current == new:
        return new
    allowed = (
        MassMessage.Status.SENDING,
        MassMessage.Status.SENT,
        MassMessage.Status.PARTIALLY_FAILED,
        MassMessage.Status.FAILED,
    )
    fields = {"finished_at": now}
    if new == MassMessage.Status.SENT:
        fields.update(errcode=None, last_error="")
    reason = _("%(ok)d of %(n)d batch(es) accepted by WeChat") % {"ok": ok, "n": len(statuses)}
    if unknown:
        note = _(
            "%(n)d batch(es) with an unknown outcome past the 24-hour clientmsgid window: not resent automatically; "
            "check 群发记录 in the WeChat console before resending"
        ) % {"n": len(unknown)}
        reason = f"{reason}; {note}"
        fields["last_error"] = note
    if _transition(message_id, allowed, new, actor_label="worker", reason=reason, **fields):
        return new
    return None


# Results: MASSSENDJOBFINISH and mass/get


def _int(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _items(node) -> list[dict]:
    """xmltodict gives one <item> as a dict and several as a list."""
    if not isinstance(node, dict):
        return []
    items = (node.get("ResultList") or {}).get("item") if isinstance(node.get("ResultList"), dict) else None
    if items is None:
        return []
    return [i for i in (items if isinstance(items, list) else [items]) if isinstance(i, dict)]


def job_status_meaning(status: str) -> str:
    match = re.fullmatch(r"err\((\d+)\)", (status or "").strip())
    if not match:
        return ""
    zh, en = JOB_ERRORS.get(int(match.group(1)), ("未知错误", "Unknown error"))
    return f"{match.group(1)}: {zh} / {en}"


def mass_job_finished(*, account, data: dict) -> MassBatch | None:
    """Record a MASSSENDJOBFINISH push on the batch with that msg_id. Repeats are harmless."""
    msg_id = str(data.get("MsgID") or data.get("MsgId") or "").strip()
    batch = (
        MassBatch.objects.filter(message__account=account, msg_id=msg_id).select_related("message").first() if msg_id else None
    )
    if batch is None:
        logger.info("mass_send.job_finish_unmatched", extra={"appid": account.appid, "msg_id": msg_id})
        return None
    status = str(data.get("Status") or "").strip()
    copyright_check = data.get("CopyrightCheckResult") if isinstance(data.get("CopyrightCheckResult"), dict) else {}
    fields = {
        "job_status": status[:64],
        "total_count": _int(data.get("TotalCount")),
        "filter_count": _int(data.get("FilterCount")),
        "sent_count": _int(data.get("SentCount")),
        "error_count": _int(data.get("ErrorCount")),
        "check_state": _int(copyright_check.get("CheckState")),
        "copyright_results": _items(copyright_check),
        "article_urls": _items(data.get("ArticleUrlResult")),
        "finished_at": timezone.now(),
    }
    failed = status != "send success"
    fields["status"] = MassBatch.Status.FAILED if failed else MassBatch.Status.FINISHED
    if failed:
        fields["errmsg"] = (job_status_meaning(status) or status)[:255]
    MassBatch.objects.filter(pk=batch.pk).update(**fields)
    _log(
        batch.message_id,
        batch.message.status,
        batch.message.status,
        actor_label="wechat",
        batch=batch,
        reason=_("batch %(i)d finished: %(status)s, sent %(sent)s, errors %(err)s")
        % {
            "i": batch.index,
            "status": job_status_meaning(status) or status,
            "sent": fields["sent_count"],
            "err": fields["error_count"],
        },
    )
    if failed:
        MassMessage.objects.filter(pk=batch.message_id).update(last_error=fields["errmsg"])
    mass_message_settle(message_id=batch.message_id)
    batch.refresh_from_db()
    return batch


@receiver(post_delete, sender=MassMessage, dispatch_uid="messaging.mass.recurrence_cleanup")
def _on_message_deleted(sender, instance, **kwargs):
    if instance.recurring_task_id:
        PeriodicTask = instance._meta.get_field("recurring_task").related_model
        PeriodicTask.objects.filter(pk=instance.recurring_task_id).delete()


@receiver(inbound_received, dispatch_uid="messaging.mass.job_finished")
def _on_inbound(sender, inbound, **kwargs):
    if (inbound.event or "").upper() == "MASSSENDJOBFINISH":
        mass_job_finished(account=inbound.account, data=inbound.payload)


def mass_batches_poll(*, now: datetime | None = None, limit: int = 200) -> int:
    """Beat fallback: ask mass/get about batches accepted long ago that never got a job-finish event."""
    now = now or timezone.now()
    stale = MassBatch.objects.filter(status=MassBatch.Status.SUBMITTED, submitted_at__lte=now - POLL_AFTER).filter(
        Q(polled_at__isnull=True) | Q(polled_at__lte=now - POLL_AFTER)
    )
    count = 0
    for batch in stale.select_related("message__account")[:limit]:
        mass_batch_poll(batch=batch)
        count += 1
    return count


def mass_batch_poll(*, batch: MassBatch) -> str:
    from wechat.gateway import client_for

    MassBatch.objects.filter(pk=batch.pk).update(polled_at=timezone.now())
    try:
        result = client_for(batch.message.account).post("message/mass/get", data={"msg_id": _int(batch.msg_id) or batch.msg_id})
    except WeChatError as exc:
        MassBatch.objects.filter(pk=batch.pk).update(errmsg=exc.display[:255])
        return ""
    msg_status = str(result.get("msg_status", ""))
    fields = {"msg_status": msg_status[:32]}
    if msg_status in ("SEND_SUCCESS", "DELETE"):
        fields.update(status=MassBatch.Status.FINISHED, finished_at=timezone.now())
    elif msg_status == "SEND_FAIL":
        fields.update(status=MassBatch.Status.FAILED, finished_at=timezone.now(), errmsg="mass/get: SEND_FAIL")
    MassBatch.objects.filter(pk=batch.pk, status=MassBatch.Status.SUBMITTED).update(**fields)
    mass_message_settle(message_id=batch.message_id)
    return msg_status


# Preview, delete, speed


def mass_message_preview(*, message: MassMessage, openids: list[str], actor=None) -> list[tuple[str, WeChatError | None]]:
    """POST mass/preview to each operator OpenID. Returns each OpenID with its error (None when sent)."""
    from wechat.gateway import client_for

    valid, invalid = openids_parse("\n".join(openids))
    if invalid or not valid:
        raise ValidationError(
            _("Enter one or more OpenIDs to preview to (invalid: %(list)s).") % {"list": ", ".join(invalid[:5])}
        )
    mass_message_validate(message)
    client = client_for(message.account)
    results: list[tuple[str, WeChatError | None]] = []
    for openid in valid:
        try:
            client.post("message/mass/preview", data={"touser": openid, **_payload(message)})
            results.append((openid, None))
        except WeChatError as exc:
            results.append((openid, exc))
    summary = ", ".join(f"{o}: {'ok' if e is None else e.errcode}" for o, e in results)
    _log(message.pk, message.status, message.status, actor=actor, reason=_("preview to %(list)s") % {"list": summary})
    return results


def mass_message_delete_article(*, message: MassMessage, article_idx: int = 0, actor=None) -> int:
    """mass/delete for each accepted batch of an article or video send. Returns how many were deleted."""
    from wechat.gateway import client_for

    if message.msgtype not in DELETABLE_TYPES:
        raise ValidationError(_("Only article (mpnews) and video mass sends can be deleted."))
    batches = list(message.batches.filter(status__in=MassBatch.OK, deleted_at__isnull=True).exclude(msg_id=""))
    if not batches:
        raise ValidationError(_("Nothing to delete: no batch of this message was accepted by WeChat."))
    client = client_for(message.account)
    deleted = 0
    for batch in batches:
        body = {"msg_id": _int(batch.msg_id) or batch.msg_id}
        if article_idx:
            body["article_idx"] = article_idx
        client.post("message/mass/delete", data=body)
        if not article_idx:
            MassBatch.objects.filter(pk=batch.pk).update(deleted_at=timezone.now(), msg_status="DELETE")
        deleted += 1
    what = _("all articles") if not article_idx else _("article %(i)d") % {"i": article_idx}
    _log(message.pk, message.status, message.status, actor=actor, reason=_("deleted %(what)s (mass/delete)") % {"what": what})
    return deleted


def mass_speed_get(*, account) -> dict:
    from wechat.gateway import client_for

    return client_for(account).post("message/mass/speed/get", data={})


def mass_speed_set(*, account, speed: int) -> None:
    from wechat.gateway import client_for

    if speed not in SPEED_LEVELS:
        raise ValidationError(_("Speed is a level from 0 (fastest, ~80万/min) to 4 (slowest, ~10万/min)."))
    client_for(account).post("message/mass/speed/set", data={"speed": speed})


# Recurring sends through django-celery-beat


RECURRING_TASK = "messaging.mass_tasks.mass_message_recur"


def mass_message_recurrence_set(
    *, message: MassMessage, minute="0", hour="9", day_of_week="*", day_of_month="*", month_of_year="*", actor=None
):
    """Run this (draft) message as a template on a crontab; each run sends a fresh copy."""
    import json

    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    if message.status != MassMessage.Status.DRAFT:
        raise ValidationError(_("Only a draft can be the template of a recurring send."))
    mass_message_validate(message)
    try:
        schedule, _created = CrontabSchedule.objects.get_or_create(
            minute=str(minute),
            hour=str(hour),
            day_of_week=str(day_of_week),
            day_of_month=str(day_of_month),
            month_of_year=str(month_of_year),
            timezone=settings.TIME_ZONE,
        )
        schedule.full_clean()
    except ValidationError as exc:
        raise ValidationError(_("Invalid crontab: %(err)s") % {"err": "; ".join(exc.messages)})
    with transaction.atomic():
        task = message.recurring_task
        if task is None:
            task = PeriodicTask(name=f"mass send #{message.pk}: {message.title}"[:200], task=RECURRING_TASK)
        task.crontab = schedule
        task.kwargs = json.dumps({"template_id": message.pk})
        task.enabled = True
        task.save()
        MassMessage.objects.filter(pk=message.pk).update(recurring_task=task)
        _log(message.pk, message.status, message.status, actor=actor, reason=_("recurs: %(cron)s") % {"cron": str(schedule)})
    message.refresh_from_db()
    return task


def mass_message_recurrence_clear(*, message: MassMessage, actor=None) -> None:
    task = message.recurring_task
    if task is not None:
        MassMessage.objects.filter(pk=message.pk).update(recurring_task=None)
        task.delete()
        _log(message.pk, message.status, message.status, actor=actor, reason=_("recurrence removed"))
    message.refresh_from_db()


# A recurring run copies what an operator can edit; foreign keys by id, so nothing is fetched to copy them.
_CLONE_FIELDS = tuple(f"{name}_id" if name in ("account", "tag") else name for name in _EDITABLE_FIELDS)


def mass_message_run_recurring(*, template_id: int) -> MassMessage | None:
    """One run of a recurring send: copy the template into a new message (own clientmsgids) and send it now."""
    template = MassMessage.objects.filter(pk=template_id).first()
    if template is None or template.status != MassMessage.Status.DRAFT:
        logger.warning("mass_send.recurring_template_gone", extra={"template_id": template_id})
        return None
    run = MassMessage(**{f: getattr(template, f) for f in _CLONE_FIELDS}, cloned_from=template, created_by=template.created_by)
    run.title = f"{template.title} · {timezone.localtime().strftime('%Y-%m-%d %H:%M')}"[:120]
    with transaction.atomic():
        run.save()
        _log(
            run.pk, "", MassMessage.Status.DRAFT, actor_label="recurrence", reason=_("copied from #%(id)d") % {"id": template.pk}
        )
    try:
        return mass_message_schedule(message=run, actor_label="recurrence")
    except ValidationError as exc:
        reason = "; ".join(exc.messages)
        _transition(
            run.pk,
            (MassMessage.Status.DRAFT,),
            MassMessage.Status.FAILED,
            actor_label="recurrence",
            reason=reason,
            last_error=reason,
        )
        run.refresh_from_db()
        return run


# Selectors


def mass_message_totals(message: MassMessage) -> dict:
    """Figures over all batches (job-finish counts are None until WeChat reports them)."""
    agg = message.batches.aggregate(
        total=Sum("total_count"),
        filtered=Sum("filter_count"),
        sent=Sum("sent_count"),
        errors=Sum("error_count"),
        recipients=Sum("recipients"),
    )
    return {k: v for k, v in agg.items()}


def mass_message_progress(message: MassMessage) -> tuple[int, int]:
    """(batches settled, batches) while sending; (sent, filtered) once WeChat reported."""
    statuses = list(message.batches.values_list("status", flat=True))
    return sum(1 for s in statuses if s in MassBatch.SETTLED), len(statuses)


def sandbox_mass_seed(*, account, app) -> None:
    """Demo for ``make run``: a draft text mass send to all followers, ready to preview and send."""
    title = "演示群发 Demo mass send"
    if MassMessage.objects.filter(account=account, title=title).exists():
        return
    mass_message_create(
        account=account,
        title=title,
        msgtype=MassMessage.MsgType.TEXT,
        content="本周新闻：新品上市，欢迎到店体验。 This week: new arrivals in store.",
        audience=MassMessage.Audience.ALL,
    )


def _register_seeder() -> None:
    from sandbox.seeding import SEEDERS

    if sandbox_mass_seed not in SEEDERS:
        SEEDERS.append(sandbox_mass_seed)


_register_seeder()

# The Celery tasks live next door; importing them here registers them in every process that loads mass sends.
from . import mass_tasks  # noqa: E402, F401

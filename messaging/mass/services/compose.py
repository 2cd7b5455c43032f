"""Mass sends: limits, input parsing and validation, the event log, and preview / delete / speed calls."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import logging
import re
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from media_assets.services.temporary import outgoing_media_fresh
from wechat.api import mass as mass_api
from wechat.errors import WeChatError

from ..models import MassBatch, MassMessage, MassMessageEvent
from ..selectors import message_value

logger = logging.getLogger(__name__)


MIN_OPENIDS = 2  # mass/send refuses a list of one


LEASE = timedelta(seconds=settings.MASS_SEND_LEASE_SECONDS)


OPENID_RE = re.compile(r"^[A-Za-z0-9_-]{6,64}$")


FILTER_KEYS = {"tag", "subscribe_scene", "subscribed_after", "subscribed_before"}


MEDIA_TYPES = {MassMessage.MsgType.VOICE, MassMessage.MsgType.VIDEO, MassMessage.MsgType.MPNEWS}


DELETABLE_TYPES = {MassMessage.MsgType.MPNEWS, MassMessage.MsgType.VIDEO}


SPEED_LEVELS = {0: 80, 1: 60, 2: 45, 3: 30, 4: 10}  # speed → about 万 followers per minute


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


def clientmsgid_for(message: MassMessage, index: int, version: int | None = None) -> str:
    """Stable id for one batch: message id, version and batch index, plus a short installation digest.

    The digest keeps two installations (staging and production on one account) from sharing ids.
    """
    version = message.version if version is None else version
    base = f"m{message.pk}v{version}b{index}"
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{message.account.appid}:{base}".encode(), hashlib.sha256).hexdigest()
    return f"{base}-{digest[: max(4, 31 - len(base))]}"[:32]


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


def _int(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def mass_message_preview(*, message: MassMessage, openids: list[str], actor=None) -> list[tuple[str, WeChatError | None]]:
    """POST mass/preview to each operator OpenID. Returns each OpenID with its error (None when sent)."""
    valid, invalid = openids_parse("\n".join(openids))
    if invalid or not valid:
        raise ValidationError(
            _("Enter one or more OpenIDs to preview to (invalid: %(list)s).") % {"list": ", ".join(invalid[:5])}
        )
    mass_message_validate(message)
    value = outgoing_media_fresh(account=message.account, message=message_value(message))
    results: list[tuple[str, WeChatError | None]] = []
    for openid in valid:
        try:
            mass_api.mass_preview(
                account=message.account, openid=openid, message=value, send_ignore_reprint=message.send_ignore_reprint
            )
            results.append((openid, None))
        except WeChatError as exc:
            results.append((openid, exc))
    summary = ", ".join(f"{o}: {'ok' if e is None else e.errcode}" for o, e in results)
    _log(message.pk, message.status, message.status, actor=actor, reason=_("preview to %(list)s") % {"list": summary})
    return results


def mass_message_delete_article(*, message: MassMessage, article_idx: int = 0, actor=None) -> int:
    """mass/delete for each accepted batch of an article or video send. Returns how many were deleted."""
    if message.msgtype not in DELETABLE_TYPES:
        raise ValidationError(_("Only article (mpnews) and video mass sends can be deleted."))
    batches = list(message.batches.filter(status__in=MassBatch.OK, deleted_at__isnull=True).exclude(msg_id=""))
    if not batches:
        raise ValidationError(_("Nothing to delete: no batch of this message was accepted by WeChat."))
    deleted = 0
    for batch in batches:
        mass_api.mass_delete(account=message.account, msg_id=batch.msg_id, article_idx=article_idx)
        if not article_idx:
            MassBatch.objects.filter(pk=batch.pk).update(deleted_at=timezone.now(), msg_status="DELETE")
        deleted += 1
    what = _("all articles") if not article_idx else _("article %(i)d") % {"i": article_idx}
    _log(message.pk, message.status, message.status, actor=actor, reason=_("deleted %(what)s (mass/delete)") % {"what": what})
    return deleted


def mass_speed_get(*, account) -> mass_api.MassSpeed:
    return mass_api.mass_speed_get(account=account)


def mass_speed_set(*, account, speed: int) -> None:
    if speed not in SPEED_LEVELS:
        raise ValidationError(_("Speed is a level from 0 (fastest, ~80万/min) to 4 (slowest, ~10万/min)."))
    mass_api.mass_speed_set(account=account, speed=speed)

"""Mass sends: create, edit, schedule and cancel; every state change is logged as a MassMessageEvent."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

import jobs
from messaging.enqueue import task_enqueue

from ..models import MassMessage
from .compose import _log, _transition, mass_message_validate, openids_parse


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
    mass_message_dispatch = jobs.task("messaging.mass_tasks.mass_message_dispatch")

    task_enqueue(mass_message_dispatch, message_id)


def _enqueue_batch(batch_id: int) -> None:
    mass_batch_send = jobs.task("messaging.mass_tasks.mass_batch_send")

    mass_batch_send.delay(batch_id)

"""Recurring mass sends through django-celery-beat."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from ..models import MassMessage
from .compose import _log, _transition, mass_message_validate
from .schedule import _EDITABLE_FIELDS, mass_message_schedule

logger = logging.getLogger(__name__)


RECURRING_TASK = "messaging.mass_tasks.mass_message_recur"


def mass_message_recurrence_set(
    *, message: MassMessage, minute="0", hour="9", day_of_week="*", day_of_month="*", month_of_year="*", actor=None
):
    """Run this (draft) message as a template on a crontab; each run sends a fresh copy."""

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

"""Template messages: the account's templates and industry, pulled from and pushed to WeChat."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from messaging.templatemsg.models import MessageTemplate
from messaging.templatemsg.validation import keywords_from_content
from wechat.api import templates as templates_api

from .messages import PushStatus

logger = logging.getLogger(__name__)


def message_templates_pull(*, account) -> dict:
    """Upsert the account's private templates from WeChat and remove the ones deleted there."""
    now = timezone.now()
    seen = []
    for remote in templates_api.templates_list(account=account):
        seen.append(remote.template_id)
        content = remote.content
        MessageTemplate.objects.update_or_create(
            account=account,
            template_id=remote.template_id,
            defaults={
                "title": remote.title[:128],
                "primary_industry": remote.primary_industry[:64],
                "deputy_industry": remote.deputy_industry[:64],
                "content": content,
                "example": remote.example,
                "keywords": keywords_from_content(content),
                "sync_status": "synced",
                "synced_at": now,
                "last_error": "",
            },
        )
    gone = MessageTemplate.objects.filter(account=account).exclude(template_id__in=seen)
    removed = gone.count()
    # Sent messages keep their template_id string; pushes that still need a vanished template block removal.
    gone.filter(pushes__isnull=True).delete()
    gone.exclude(pushes__isnull=True).update(sync_status="failed", last_error=_("Deleted at WeChat"))
    logger.info("template.pulled", extra={"appid": account.appid, "count": len(seen), "removed": removed})
    return {"count": len(seen), "removed": removed}


def message_template_add(*, account, template_id_short: str, keyword_names: list[str] | None = None) -> MessageTemplate:
    """Add a template from WeChat's library (模板库) to the account, then pull it to learn its content."""
    template_id_short = (template_id_short or "").strip()
    if not template_id_short:
        raise ValidationError({"template_id_short": _("Enter the template's library number, e.g. TM00015.")})
    names = [name.strip() for name in keyword_names or [] if name.strip()]
    template_id = templates_api.template_add(account=account, template_id_short=template_id_short, keyword_names=names)
    message_templates_pull(account=account)
    template, _created = MessageTemplate.objects.get_or_create(
        account=account, template_id=template_id, defaults={"sync_status": "synced", "synced_at": timezone.now()}
    )
    template.template_id_short = template_id_short[:64]
    template.save(update_fields=["template_id_short", "updated_at"])
    return template


def message_template_delete(*, template: MessageTemplate) -> None:
    """Delete at WeChat, then here. Raises ValidationError while a scheduled push still needs it."""
    if template.pushes.filter(status__in=[PushStatus.SCHEDULED, PushStatus.SENDING, PushStatus.STOPPED]).exists():
        raise ValidationError(_("A push that has not finished uses this template; cancel it first."))
    templates_api.template_delete(account=template.account, template_id=template.template_id)
    if template.pushes.exists():
        MessageTemplate.objects.filter(pk=template.pk).update(sync_status="failed", last_error=_("Deleted at WeChat"))
    else:
        template.delete()


def industry_get(*, account) -> templates_api.Industry:
    return templates_api.industry_get(account=account)


def industry_set(*, account, industry_id1: int, industry_id2: int) -> None:
    templates_api.industry_set(account=account, industry_id1=industry_id1, industry_id2=industry_id2)

"""Template messages: the account's templates and industry, pulled from and pushed to WeChat."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from messaging.templatemsg.models import MessageTemplate
from messaging.templatemsg.validation import keywords_from_content
from wechat.gateway import client_for

from .messages import PushStatus

logger = logging.getLogger(__name__)


def message_templates_pull(*, account) -> dict:
    """Upsert the account's private templates from WeChat and remove the ones deleted there."""
    answer = client_for(account).get("template/get_all_private_template")
    now = timezone.now()
    seen = []
    for item in answer.get("template_list") or []:
        template_id = str(item.get("template_id") or "")
        if not template_id:
            continue
        seen.append(template_id)
        content = item.get("content") or ""
        MessageTemplate.objects.update_or_create(
            account=account,
            template_id=template_id,
            defaults={
                "title": (item.get("title") or "")[:128],
                "primary_industry": (item.get("primary_industry") or "")[:64],
                "deputy_industry": (item.get("deputy_industry") or "")[:64],
                "content": content,
                "example": item.get("example") or "",
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
    body: dict = {"template_id_short": template_id_short}
    names = [name.strip() for name in keyword_names or [] if name.strip()]
    if names:
        body["keyword_name_list"] = names
    answer = client_for(account).post("template/api_add_template", data=body)
    template_id = answer["template_id"]
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
    client_for(template.account).post("template/del_private_template", data={"template_id": template.template_id})
    if template.pushes.exists():
        MessageTemplate.objects.filter(pk=template.pk).update(sync_status="failed", last_error=_("Deleted at WeChat"))
    else:
        template.delete()


def industry_get(*, account) -> dict:
    return client_for(account).get("template/get_industry")


def industry_set(*, account, industry_id1: int, industry_id2: int) -> dict:
    return client_for(account).post(
        "template/api_set_industry", data={"industry_id1": str(industry_id1), "industry_id2": str(industry_id2)}
    )

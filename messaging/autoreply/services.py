"""Auto-reply rules: saving rules with their replies, and follow-up replies sent through customer service."""

from __future__ import annotations

import logging

from django.db import transaction

from .models import AutoReplyContent, AutoReplyRule
from .replies import custom_payloads, reply_from_content
from .validation import rule_contents_clean

logger = logging.getLogger(__name__)


def followup_payloads(rule: AutoReplyRule) -> list[dict]:
    if rule.reply_mode != AutoReplyRule.ReplyMode.ALL:
        return []
    contents = list(rule.contents.order_by("position", "id"))
    payloads = []
    for content in contents[1:]:
        payloads += custom_payloads(reply_from_content(content))
    return payloads


def followups_send(*, inbound) -> int:
    """Enqueue the customer-service sends of the matched rule's further replies, in order. Returns how many."""
    from celery import chain

    from messaging.kefu.tasks import custom_message_send
    from wechat.errors import WeChatError

    rule = AutoReplyRule.objects.filter(pk=inbound.matched_rule_id).first() if inbound.matched_rule_id else None
    if rule is None:
        return 0
    payloads = followup_payloads(rule)
    if not payloads:
        return 0
    # A chain keeps the follower's order and stops at the first failure (45015: window closed, 45047: too many).
    sends = chain(*(custom_message_send.si(inbound.account_id, inbound.openid, p) for p in payloads))

    def enqueue():
        try:
            sends.apply_async(countdown=1)
        except WeChatError as exc:  # only when tasks run eagerly (CELERY_TASK_ALWAYS_EAGER)
            logger.warning(
                "autoreply.followup_failed",
                extra={"inbound_id": inbound.pk, "rule_id": rule.pk, "errcode": exc.errcode},
            )

    transaction.on_commit(enqueue)
    logger.info("autoreply.followups_enqueued", extra={"inbound_id": inbound.pk, "rule_id": rule.pk, "count": len(payloads)})
    return len(payloads)


def rule_save(*, rule: AutoReplyRule, contents: list[AutoReplyContent]) -> AutoReplyRule:
    """Validate a rule with its replies and save them together, or save nothing.

    ``contents`` replaces the rule's replies, in the order given.
    """
    rule.full_clean()
    for position, content in enumerate(contents):
        content.position = position
        content.full_clean(exclude=["rule"])
    rule_contents_clean(rule, contents)
    with transaction.atomic():
        rule.save()
        rule.contents.exclude(pk__in=[c.pk for c in contents if c.pk]).delete()
        for content in contents:
            content.rule = rule
            content.save()
    return rule


def rule_create(*, account, name: str, trigger: str, replies: list[dict], **fields) -> AutoReplyRule:
    """Create a rule from plain values; ``replies`` are AutoReplyContent field dicts (``reply_type`` plus its fields)."""
    rule = AutoReplyRule(account=account, name=name, trigger=trigger, **fields)
    return rule_save(rule=rule, contents=[AutoReplyContent(**r) for r in replies])

"""Auto-reply rules: saving rules with their replies, and follow-up replies sent through customer service."""

from __future__ import annotations

import logging

from celery import chain
from django.db import transaction

import jobs
from wechat.errors import WeChatError
from wechat.outgoing import custom_payloads

from .matching import rules_changed
from .models import AutoReplyContent, AutoReplyRule
from .replies import content_message
from .selectors import rule_contents, rule_for_inbound, rule_saved_account_id
from .validation import rule_contents_clean

logger = logging.getLogger(__name__)


def followup_payloads(rule: AutoReplyRule) -> list[dict]:
    if rule.reply_mode != AutoReplyRule.ReplyMode.ALL:
        return []
    contents = rule_contents(rule=rule)
    payloads = []
    for content in contents[1:]:
        payloads += custom_payloads(content_message(content))
    return payloads


def followups_send(*, inbound) -> int:
    """Enqueue the customer-service sends of the matched rule's further replies, in order. Returns how many."""

    custom_message_send = jobs.task("messaging.tasks.custom_message_send")

    rule = rule_for_inbound(inbound=inbound)
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


def rule_clean(*, rule: AutoReplyRule, contents: list[AutoReplyContent] | None = None) -> None:
    """Every check a rule (with its replies, when given) must pass before it is saved; raises ValidationError."""
    rule.full_clean()
    if contents is not None:
        for position, content in enumerate(contents):
            content.position = position
            content.full_clean(exclude=["rule"])
        rule_contents_clean(rule, contents)


def rule_enable_clean(*, rule: AutoReplyRule) -> None:
    """A rule switched on must pass the checks of a full save with the replies it has."""
    rule_clean(rule=rule, contents=rule_contents(rule=rule))


def rule_save(*, rule: AutoReplyRule, contents: list[AutoReplyContent] | None = None) -> AutoReplyRule:
    """Validate a rule with its replies and save them together, or save nothing.

    ``contents`` replaces the rule's replies, in the order given; None keeps the replies the rule has.
    """
    rule_clean(rule=rule, contents=contents)
    previous_account_id = rule_saved_account_id(rule=rule)
    with transaction.atomic():
        rule.save()
        if contents is not None:
            rule.contents.exclude(pk__in=[c.pk for c in contents if c.pk]).delete()
            for content in contents:
                content.rule = rule
                content.save()
        rules_changed(account_id=rule.account_id)
        if previous_account_id is not None and previous_account_id != rule.account_id:
            rules_changed(account_id=previous_account_id)
    return rule


def rule_delete(*, rule: AutoReplyRule) -> None:
    with transaction.atomic():
        account_id = rule.account_id
        rule.delete()
        rules_changed(account_id=account_id, deleting=True)


def rules_delete(*, rules) -> int:
    """Delete the given rules (a queryset) and bump each account's version once. Returns how many rules."""
    with transaction.atomic():
        rows = list(rules.values_list("pk", "account_id"))
        AutoReplyRule.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
        account_ids = {account_id for _, account_id in rows}
        for account_id in account_ids:
            rules_changed(account_id=account_id, deleting=True)
    return len(rows)


def rule_enabled_set(*, rules, enabled: bool) -> int:
    """Enable or disable rules; a rule is enabled only if it passes the save checks. Returns how many changed."""
    changed = []
    for rule in rules.exclude(enabled=enabled):
        rule.enabled = enabled
        if enabled:
            rule_enable_clean(rule=rule)
        changed.append(rule)
    if not changed:
        return 0
    with transaction.atomic():
        for rule in changed:
            rule.save(update_fields=["enabled", "updated_at"])
        for account_id in {rule.account_id for rule in changed}:
            rules_changed(account_id=account_id)
    return len(changed)


def rule_create(*, account, name: str, trigger: str, replies: list[dict], **fields) -> AutoReplyRule:
    """Create a rule from plain values; ``replies`` are AutoReplyContent field dicts (``reply_type`` plus its fields)."""
    rule = AutoReplyRule(account=account, name=name, trigger=trigger, **fields)
    return rule_save(rule=rule, contents=[AutoReplyContent(**r) for r in replies])

"""Auto-reply reads: the rules a matcher is compiled from, a rule's replies in order, the stored rules version,
and the customer-service accounts a transfer reply may name."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from messaging.kefu.models import KfAccount

from .models import AutoReplyContent, AutoReplyRule, AutoReplyVersion


def rules_for_matching(*, account_id: int) -> QuerySet[AutoReplyRule]:
    """The account's enabled rules in the order they are tried (priority, then age), with their replies."""
    return (
        AutoReplyRule.objects.filter(account_id=account_id, enabled=True).order_by("-priority", "id").prefetch_related("contents")
    )


def rules_version(*, account_id: int) -> str | None:
    """The stored version of the account's rules (None before its first rule is saved)."""
    return AutoReplyVersion.objects.filter(account_id=account_id).values_list("version", flat=True).first()


def rule_contents(*, rule: AutoReplyRule) -> list[AutoReplyContent]:
    """A saved rule's replies in the order they are sent."""
    return list(rule.contents.order_by("position", "id")) if rule.pk else []


def rule_for_inbound(*, inbound) -> AutoReplyRule | None:
    """The rule that answered an inbound message, if it still exists."""
    if not inbound.matched_rule_id:
        return None
    return AutoReplyRule.objects.filter(pk=inbound.matched_rule_id).first()


def rule_saved_account_id(*, rule: AutoReplyRule) -> int | None:
    """The account a rule belongs to in the database (before an edit that may move it)."""
    if not rule.pk:
        return None
    return AutoReplyRule.objects.filter(pk=rule.pk).values_list("account_id", flat=True).first()


def rules_with_reply_count(rules: QuerySet[AutoReplyRule]) -> QuerySet[AutoReplyRule]:
    """``rules`` annotated with ``_reply_count``, for the list page."""
    return rules.annotate(_reply_count=Count("contents")).select_related("account")


def kf_accounts_for_transfer(*, accounts) -> QuerySet[KfAccount]:
    """The customer-service accounts a transfer reply of these official accounts may name."""
    return KfAccount.objects.filter(account__in=accounts).select_related("account").order_by("account", "kf_account")


def transfer_kf_accounts_named(*, accounts) -> set[str]:
    """The customer-service accounts the replies of these official accounts name (listed or not)."""
    return set(
        AutoReplyContent.objects.filter(rule__account__in=accounts)
        .exclude(kf_account="")
        .values_list("kf_account", flat=True)
        .distinct()
    )

"""The back office's front page: one summary row per account, and charts of the chosen account.

Reads only; wxsite is the top layer, so it asks every app's selectors (and reads their models where an app has no
selector for a figure yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.selectors import accounts_for_user
from followers.selectors import follower_growth
from messaging.inbound import selectors as inbound_selectors
from messaging.mass.models import MassMessage
from messaging.mass.selectors import mass_message_totals
from messaging.templatemsg.models import TemplatePush
from wechat.api.basic import DAILY_QUOTA
from wechat.errors import describe
from wechat.models import AccessToken, ApiCallLog

CHART_DAYS = 30
RECENT_SENDS = 8


def day_start(now: datetime) -> datetime:
    """Midnight of the site's day (Asia/Shanghai by default, WeChat's day for quotas)."""
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def _minutes_left(token: AccessToken | None, now: datetime) -> int | None:
    return int(token.seconds_left(now) // 60) if token and token.value else None


def account_rows(*, user, now: datetime | None = None, limit: int = 20) -> list[dict]:
    """One row per account the operator manages: followers, today's follower messages, API errors, token state."""
    now = now or timezone.now()
    accounts = accounts_for_user(user).annotate(
        follower_total=Count("followers", filter=Q(followers__subscribed=True), distinct=True),
    )
    rows = []
    for account in accounts[:limit]:
        token = AccessToken.objects.filter(account=account, kind=AccessToken.Kind.ACCESS_TOKEN).first()
        rows.append(
            {
                "account": account,
                "followers": account.follower_total,
                "messages_today": inbound_selectors.follower_message_count(account=account, since=day_start(now)),
                "api_errors": account.api_calls.filter(created_at__gte=now - timedelta(hours=24)).exclude(errcode=0).count(),
                "token_minutes": _minutes_left(token, now),
                "token_error": token.last_error if token else "",
            }
        )
    return rows


def _growth_chart(account) -> dict:
    growth = follower_growth(account=account, days=CHART_DAYS)
    return {
        "source": growth.source,
        "labels": [d.strftime("%m-%d") for d in growth.days],
        "series": {"new": growth.new, "cancel": growth.cancel, "net": growth.net, "cumulate": growth.cumulate},
        "totals": {"new": sum(growth.new), "cancel": sum(growth.cancel), "net": sum(growth.net)},
    }


def _messages_chart(account, now: datetime) -> dict:
    start = day_start(now) - timedelta(days=CHART_DAYS - 1)
    days = [(start + timedelta(days=i)).date() for i in range(CHART_DAYS)]
    rows = inbound_selectors.follower_messages_per_day(account=account, since=start)
    types = sorted({r["msg_type"] for r in rows})
    counts = {(r["day"], r["msg_type"]): r["n"] for r in rows}
    return {
        "labels": [d.strftime("%m-%d") for d in days],
        "series": {t: [counts.get((d, t), 0) for d in days] for t in types},
        "total": sum(counts.values()),
    }


@dataclass(frozen=True)
class SendResult:
    kind: str
    name: str
    status: str
    delivered: int
    failed: int
    when: datetime | None


def _send_results(account) -> list[SendResult]:
    results = []
    for message in (
        MassMessage.objects.filter(account=account).exclude(status=MassMessage.Status.DRAFT).order_by("-id")[:RECENT_SENDS]
    ):
        totals = mass_message_totals(message)
        results.append(
            SendResult(
                _("Mass send"),
                message.title,
                message.get_status_display(),
                totals["sent"] or 0,
                totals["errors"] or 0,
                message.scheduled_at,
            )
        )
    for push in TemplatePush.objects.filter(account=account).order_by("-id")[:RECENT_SENDS]:
        results.append(
            SendResult(
                _("Template push"),
                push.name,
                push.get_status_display(),
                push.success_count,
                push.failed_count,
                push.finished_at or push.scheduled_at,
            )
        )
    return results


def _api_errors(account, now: datetime) -> list[dict]:
    rows = (
        ApiCallLog.objects.filter(account=account, created_at__gte=now - timedelta(hours=24))
        .exclude(errcode=0)
        .values("errcode")
        .annotate(n=Count("id"), last=Max("created_at"))
        .order_by("-n", "errcode")
    )
    errors = []
    for row in rows:
        info = describe(row["errcode"])
        endpoints = (
            ApiCallLog.objects.filter(account=account, errcode=row["errcode"], created_at__gte=now - timedelta(hours=24))
            .values_list("endpoint", flat=True)
            .distinct()[:3]
        )
        errors.append({**row, "zh": info.zh, "en": info.en, "endpoints": list(endpoints)})
    return errors


def _token_health(account, now: datetime) -> dict:
    token = AccessToken.objects.filter(account=account, kind=AccessToken.Kind.ACCESS_TOKEN).first()
    refreshes = dict(
        ApiCallLog.objects.filter(account=account, endpoint__in=[e.path for e in DAILY_QUOTA], created_at__gte=day_start(now))
        .values_list("endpoint")
        .annotate(n=Count("id"))
    )
    quotas = [
        {"endpoint": endpoint.path, "used": refreshes.get(endpoint.path, 0), "quota": quota}
        for endpoint, quota in DAILY_QUOTA.items()
    ]
    return {
        "minutes_left": _minutes_left(token, now),
        "expires_at": token.expires_at if token else None,
        "refreshed_at": token.refreshed_at if token else None,
        "error": token.last_error if token else "",
        "quotas": quotas,
    }


def account_dashboard(*, account, now: datetime | None = None) -> dict:
    """Everything the charts and tables of one account show."""
    now = now or timezone.now()
    since = day_start(now) - timedelta(days=CHART_DAYS - 1)
    sends = _send_results(account)
    return {
        "account": account,
        "charts": {
            "growth": _growth_chart(account),
            "messages": _messages_chart(account, now),
            "sends": {
                "labels": [f"{s.kind}: {s.name}"[:40] for s in sends],
                "delivered": [s.delivered for s in sends],
                "failed": [s.failed for s in sends],
            },
            "names": {
                "new": _("new"),
                "cancel": _("unfollowed"),
                "net": _("net"),
                "cumulate": _("followers"),
                "delivered": _("delivered"),
                "failed": _("failed"),
            },
        },
        "keywords": inbound_selectors.top_keywords(account=account, since=since),
        "unmatched": inbound_selectors.unmatched_messages(account=account, since=since),
        "sends": sends,
        "api_errors": _api_errors(account, now),
        "token": _token_health(account, now),
    }

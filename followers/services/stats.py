"""Follower figures per day from WeChat's data cube, stored as FollowerDailyStat rows (nightly, by beat)."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, timedelta

from accounts.models import OfficialAccount
from followers.models import FollowerDailyStat
from wechat.api import datacube

logger = logging.getLogger(__name__)

# A nightly pull re-reads the last week (late figures settle); an account without figures gets this many days.
NIGHTLY_DAYS = datacube.USER_SPAN_DAYS
BACKFILL_DAYS = 30


def follower_stats_pull(*, account: OfficialAccount, days: int | None = None, end: date | None = None) -> int:
    """Pull ``days`` days up to ``end`` (yesterday) in calls of at most 7 days and upsert them; the days stored."""
    end = end or datacube.latest_day()
    if days is None:
        days = NIGHTLY_DAYS if FollowerDailyStat.objects.filter(account=account).exists() else BACKFILL_DAYS
    figures: dict[date, dict] = defaultdict(lambda: {"new_user": 0, "cancel_user": 0, "cumulate_user": None, "by_source": {}})
    for begin, last in datacube.spans(begin=end - timedelta(days=days - 1), end=end):
        for row in datacube.user_summary(account=account, begin=begin, end=last):
            day = figures[row.ref_date]
            day["new_user"] += row.new_user
            day["cancel_user"] += row.cancel_user
            source = str(row.user_source)
            day["by_source"][source] = day["by_source"].get(source, 0) + row.new_user
        for row in datacube.user_cumulate(account=account, begin=begin, end=last):
            figures[row.ref_date]["cumulate_user"] = row.cumulate_user
    FollowerDailyStat.objects.bulk_create(
        [
            FollowerDailyStat(
                account=account,
                day=day,
                new_user=f["new_user"],
                cancel_user=f["cancel_user"],
                cumulate_user=f["cumulate_user"],
                new_by_source=f["by_source"],
            )
            for day, f in sorted(figures.items())
        ],
        update_conflicts=True,
        unique_fields=["account", "day"],
        update_fields=["new_user", "cancel_user", "cumulate_user", "new_by_source", "pulled_at"],
    )
    logger.info("follower_stats.pulled", extra={"account_id": account.pk, "days": len(figures)})
    return len(figures)


def accounts_with_datacube():
    """Accounts WeChat gives statistics to: verified ones (others get 48001)."""
    return OfficialAccount.objects.filter(verified=True)

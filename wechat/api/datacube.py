"""Data cube (数据统计): follower summaries per day (API.md §11).

Every call is ``{"begin_date", "end_date"}`` with the end date at most yesterday and a maximum span per API
(7 days for the user APIs); the answer is always ``{"list": [...]}``. WeChat refuses a longer span with 61501.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from wechat import gateway

from .endpoints import Endpoint

# The most days one user-analysis call covers, both ends included (getusersummary, getusercumulate).
USER_SPAN_DAYS = 7
# WeChat's statistics count China days.
STATS_TIMEZONE = ZoneInfo("Asia/Shanghai")


def latest_day() -> date:
    """Yesterday in China: the latest day the data cube reports."""
    return timezone.now().astimezone(STATS_TIMEZONE).date() - timedelta(days=1)


@dataclass(frozen=True)
class UserSummary:
    """New and cancelled followers of one day from one source (user_source: 0 other, 1 search, 17 card, 30 QR …)."""

    ref_date: date
    user_source: int
    new_user: int
    cancel_user: int


@dataclass(frozen=True)
class UserCumulate:
    ref_date: date
    cumulate_user: int


def spans(*, begin: date, end: date, days: int = USER_SPAN_DAYS) -> list[tuple[date, date]]:
    """``begin..end`` cut into consecutive ranges of at most ``days`` days, oldest first."""
    ranges = []
    while begin <= end:
        last = min(end, begin + timedelta(days=days - 1))
        ranges.append((begin, last))
        begin = last + timedelta(days=1)
    return ranges


def _body(begin: date, end: date) -> dict:
    if end < begin or (end - begin).days >= USER_SPAN_DAYS:
        raise ValueError(f"a user-analysis call covers 1 to {USER_SPAN_DAYS} days, not {begin}..{end}")
    return {"begin_date": begin.isoformat(), "end_date": end.isoformat()}


def user_summary(*, account, begin: date, end: date) -> list[UserSummary]:
    """``datacube/getusersummary``: one row per day and source that had followers come or go."""
    return user_summary_parse(gateway.call(account, Endpoint.DATACUBE_USER_SUMMARY, json=_body(begin, end)))


def user_summary_parse(result: dict) -> list[UserSummary]:
    return [
        UserSummary(
            ref_date=date.fromisoformat(row["ref_date"]),
            user_source=int(row.get("user_source") or 0),
            new_user=int(row.get("new_user") or 0),
            cancel_user=int(row.get("cancel_user") or 0),
        )
        for row in result.get("list") or []
    ]


def user_cumulate(*, account, begin: date, end: date) -> list[UserCumulate]:
    """``datacube/getusercumulate``: the follower total at the end of each day."""
    return user_cumulate_parse(gateway.call(account, Endpoint.DATACUBE_USER_CUMULATE, json=_body(begin, end)))


def user_cumulate_parse(result: dict) -> list[UserCumulate]:
    return [
        UserCumulate(ref_date=date.fromisoformat(row["ref_date"]), cumulate_user=int(row.get("cumulate_user") or 0))
        for row in result.get("list") or []
    ]

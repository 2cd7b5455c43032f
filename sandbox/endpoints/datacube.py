"""Data cube (数据统计) user analysis: getusersummary and getusercumulate (API.md §11), with plausible series.

The numbers are made up but steady: each day's figures come from a generator seeded with the appid and the date, so
repeated pulls agree, and the cumulative total ends yesterday at the app's current follower count.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from ..core import Call, SandboxError, endpoint
from ..models import SandboxFollower

CHINA = ZoneInfo("Asia/Shanghai")
USER_SPAN_DAYS = 7
# user_source values the series uses: 0 other, 1 search (搜一搜), 17 business card share (名片分享), 30 QR code scan.
SOURCES = (0, 1, 17, 30)
SOURCE_WEIGHTS = (0.2, 0.25, 0.15, 0.4)
# The follower count of an app without followers in the sandbox, so the demo charts have a shape.
EMPTY_APP_TOTAL = 1280


def _range(call: Call) -> tuple[date, date]:
    try:
        begin = date.fromisoformat(str(call.json.get("begin_date") or ""))
        end = date.fromisoformat(str(call.json.get("end_date") or ""))
    except ValueError as exc:
        raise SandboxError(61500, "date format error") from exc
    yesterday = call.now().astimezone(CHINA).date() - timedelta(days=1)
    if end < begin or end > yesterday or (end - begin).days >= USER_SPAN_DAYS:
        raise SandboxError(61501, "date range error")
    return begin, end


def _authorised(call: Call) -> None:
    if not call.app.verified:
        raise SandboxError(48001, "api unauthorized")


def day_figures(appid: str, day: date, total: int) -> dict[int, tuple[int, int]]:
    """(new, cancelled) followers per source on ``day``: fewer at weekends, about 0.5 % of the total on a weekday."""
    rng = random.Random(f"{appid}:{day.isoformat()}")  # seeded: repeated pulls agree
    scale = max(4.0, total / 200) * (0.6 if day.weekday() >= 5 else 1.0)
    figures = {}
    for source, weight in zip(SOURCES, SOURCE_WEIGHTS, strict=True):
        new = int(rng.uniform(0.5, 1.5) * scale * weight)
        figures[source] = (new, int(new * rng.uniform(0.05, 0.35)))
    return figures


def _total(call: Call) -> int:
    return SandboxFollower.objects.filter(app=call.app, subscribed=True).count() or EMPTY_APP_TOTAL


@endpoint("datacube/getusersummary", methods=("POST",))
def getusersummary(call: Call) -> dict:
    _authorised(call)
    begin, end = _range(call)
    total = _total(call)
    rows = []
    for offset in range((end - begin).days + 1):
        day = begin + timedelta(days=offset)
        for source, (new, cancel) in day_figures(call.app.appid, day, total).items():
            rows.append({"ref_date": day.isoformat(), "user_source": source, "new_user": new, "cancel_user": cancel})
    return {"list": rows}


@endpoint("datacube/getusercumulate", methods=("POST",))
def getusercumulate(call: Call) -> dict:
    _authorised(call)
    begin, end = _range(call)
    total = _total(call)
    yesterday = call.now().astimezone(CHINA).date() - timedelta(days=1)
    # Walk back from yesterday's total, taking off each later day's net change.
    cumulate, day, rows = total, yesterday, []
    while day >= begin:
        if day <= end:
            rows.append({"ref_date": day.isoformat(), "cumulate_user": max(0, cumulate)})
        cumulate -= sum(new - cancel for new, cancel in day_figures(call.app.appid, day, total).values())
        day -= timedelta(days=1)
    return {"list": rows[::-1]}

"""Follower list and user info (API.md §4): user/get, user/info, user/info/batchget."""

from __future__ import annotations

import time

from ..core import Call, SandboxError, endpoint
from ..generator import GENERATED_COLUMNS
from ..models import SandboxFollower

PAGE_SIZE = 10_000
MAX_BATCHGET = 100
LANGS = ("zh_CN", "zh_TW", "en")
_INFO_FIELDS = tuple(column for column in GENERATED_COLUMNS if column != "blacklisted")


def _user_rights(call: Call) -> None:
    # User management needs a verified account (认证); unverified ones get 48001.
    if not call.app.verified:
        raise SandboxError(48001)


def user_info(row: dict) -> dict:
    """One follower in the current (post-2021-12-27) shape: no nickname, no headimgurl."""
    if not row["subscribed"]:
        body = {"subscribe": 0, "openid": row["openid"]}
        if row["unionid"]:
            body["unionid"] = row["unionid"]
        return body
    body = {
        "subscribe": 1,
        "openid": row["openid"],
        "language": row["language"],
        "subscribe_time": row["subscribe_time"],
    }
    if row["unionid"]:
        body["unionid"] = row["unionid"]
    body.update(
        {
            "remark": row["remark"],
            "groupid": 0,
            "tagid_list": list(row["tagids"]),
            "subscribe_scene": row["subscribe_scene"],
            "qr_scene": row["qr_scene"],
            "qr_scene_str": row["qr_scene_str"],
        }
    )
    return body


# (app id) -> (total, monotonic time): counting a million rows for each of 100 pages would cost more than
# the pages. The first page counts; the following ones, like WeChat's, may show a total up to a minute old.
_TOTALS: dict[int, tuple[int, float]] = {}
TOTAL_TTL = 60.0


def _total(app, *, fresh: bool) -> int:
    cached = _TOTALS.get(app.pk)
    if fresh or cached is None or time.monotonic() - cached[1] > TOTAL_TTL:
        cached = (SandboxFollower.objects.filter(app=app, subscribed=True).count(), time.monotonic())
        _TOTALS[app.pk] = cached
    return cached[0]


@endpoint("cgi-bin/user/get", methods=("GET",))
def user_get(call: Call) -> dict:
    _user_rights(call)
    followers = SandboxFollower.objects.filter(app=call.app)
    start = call.query.get("next_openid") or ""
    page = followers.filter(subscribed=True)
    if start:
        # The anchor may have unfollowed since the previous page: look it up among all rows.
        anchor = followers.filter(openid=start).values_list("id", flat=True).first()
        if anchor is None:
            raise SandboxError(40003, "invalid next_openid")
        page = page.filter(id__gt=anchor)
    openids = list(page.order_by("id").values_list("openid", flat=True)[:PAGE_SIZE])
    body = {"total": _total(call.app, fresh=not start), "count": len(openids)}
    if openids:
        body["data"] = {"openid": openids}
    body["next_openid"] = openids[-1] if openids else ""
    return body


@endpoint("cgi-bin/user/info", methods=("GET",))
def info(call: Call) -> dict:
    _user_rights(call)
    openid = call.query.get("openid") or ""
    row = SandboxFollower.objects.filter(app=call.app, openid=openid).values(*_INFO_FIELDS).first()
    if row is None:
        raise SandboxError(40003, "invalid openid")
    return user_info(row)


@endpoint("cgi-bin/user/info/batchget", methods=("POST",))
def batchget(call: Call) -> dict:
    _user_rights(call)
    user_list = call.json.get("user_list")
    if not isinstance(user_list, list) or not user_list or len(user_list) > MAX_BATCHGET:
        raise SandboxError(40032, "invalid openid list size")
    if not all(isinstance(u, dict) and isinstance(u.get("openid"), str) for u in user_list):
        raise SandboxError(47001)
    openids = [u["openid"] for u in user_list]
    # One query for the whole batch.
    rows = {r["openid"]: r for r in SandboxFollower.objects.filter(app=call.app, openid__in=openids).values(*_INFO_FIELDS)}
    if len(rows) != len(set(openids)):
        raise SandboxError(40003, "invalid openid")
    return {"user_info_list": [user_info(rows[openid]) for openid in openids]}

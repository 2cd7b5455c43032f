"""Follower list and user info (API.md §4): user/get, user/info, user/info/batchget."""

from __future__ import annotations

import json
import time
from json.encoder import encode_basestring as _quote

from django.db import connection
from django.db.models import Subquery
from django.http import HttpResponse

from ..core import Call, SandboxError, endpoint
from ..models import SandboxFollower

PAGE_SIZE = 10_000
MAX_BATCHGET = 100
LANGS = ("zh_CN", "zh_TW", "en")


def _user_rights(call: Call) -> None:
    # User management needs a verified account (认证); unverified ones get 48001.
    if not call.app.verified:
        raise SandboxError(48001)


# The columns user/info answers from, in the order ``user_info_json`` takes them.
_INFO_COLUMNS = (
    "openid",
    "unionid",
    "subscribed",
    "subscribe_time",
    "subscribe_scene",
    "qr_scene",
    "qr_scene_str",
    "language",
    "remark",
    "tagids",
)


def user_info_json(openid, unionid, subscribed, subscribe_time, scene, qr_scene, qr_scene_str, language, remark, tagids) -> str:
    """One follower in the current (post-2021-12-27) shape, no nickname or headimgurl, as JSON text built from a row:
    a batch of 100 costs no dict and no model instance, and the stored tag list (JSON already) is copied as it is."""
    union = f',"unionid":{_quote(unionid)}' if unionid else ""
    if not subscribed:
        return f'{{"subscribe":0,"openid":{_quote(openid)}{union}}}'
    if not isinstance(tagids, str):
        tagids = json.dumps(tagids)
    return (
        f'{{"subscribe":1,"openid":{_quote(openid)},"language":{_quote(language)},"subscribe_time":{int(subscribe_time)}'
        f'{union},"remark":{_quote(remark)},"groupid":0,"tagid_list":{tagids},"subscribe_scene":{_quote(scene)},'
        f'"qr_scene":{int(qr_scene)},"qr_scene_str":{_quote(qr_scene_str)}}}'
    )


def _info_rows(app, openids: list[str]) -> dict[str, tuple]:
    """{openid: row} of the app's followers among ``openids``, in one query."""
    table = SandboxFollower._meta.db_table
    placeholders = ", ".join(["%s"] * len(openids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(_INFO_COLUMNS)} FROM {table} WHERE app_id = %s AND openid IN ({placeholders})",  # noqa: S608
            [app.pk, *openids],
        )
        return {row[0]: row for row in cursor.fetchall()}


def _json_response(text: str) -> HttpResponse:
    return HttpResponse(text, content_type="application/json; charset=utf-8")


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
        # The anchor may have unfollowed since the previous page: look it up among all rows, in the same query.
        page = page.filter(id__gt=Subquery(followers.filter(openid=start).values("id")[:1]))
    openids = list(page.order_by("id").values_list("openid", flat=True)[:PAGE_SIZE])
    if start and not openids and not followers.filter(openid=start).exists():
        raise SandboxError(40003, "invalid next_openid")
    body = {"total": _total(call.app, fresh=not start), "count": len(openids)}
    if openids:
        body["data"] = {"openid": openids}
    body["next_openid"] = openids[-1] if openids else ""
    return body


@endpoint("cgi-bin/user/info", methods=("GET",))
def info(call: Call) -> HttpResponse:
    _user_rights(call)
    openid = call.query.get("openid") or ""
    row = _info_rows(call.app, [openid]).get(openid)
    if row is None:
        raise SandboxError(40003, "invalid openid")
    return _json_response(user_info_json(*row))


@endpoint("cgi-bin/user/info/batchget", methods=("POST",))
def batchget(call: Call) -> HttpResponse:
    _user_rights(call)
    user_list = call.json.get("user_list")
    if not isinstance(user_list, list) or not user_list or len(user_list) > MAX_BATCHGET:
        raise SandboxError(40032, "invalid openid list size")
    if not all(isinstance(u, dict) and isinstance(u.get("openid"), str) for u in user_list):
        raise SandboxError(47001)
    openids = [u["openid"] for u in user_list]
    rows = _info_rows(call.app, openids)
    if len(rows) != len(set(openids)):
        raise SandboxError(40003, "invalid openid")
    return _json_response('{"user_info_list":[' + ",".join(user_info_json(*rows[openid]) for openid in openids) + "]}")

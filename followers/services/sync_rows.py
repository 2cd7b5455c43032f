"""Followers from WeChat's user/info answers as plain tuples, and those tuples as PostgreSQL COPY text.

A full sync reads a million entries: each becomes one tuple (no dict, no model instance), and on PostgreSQL one
line of COPY text, built on the thread that fetched it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

# The fields of a subscribed follower, in this order (``FollowerRow``): subscribe_time is WeChat's epoch seconds
# (None when absent), tagids WeChat's tag ids.
ROW_FIELDS = ("openid", "unionid", "subscribe_scene", "qr_scene", "language", "remark", "subscribe_time", "tagids")
FollowerRow = tuple  # (openid, unionid, subscribe_scene, qr_scene, language, remark, subscribe_time, tagids)

NULL = "\\N"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": None})


class UserInfoRows(NamedTuple):
    """What a batch of user/info entries says: the subscribed followers, the openids that unfollowed, and every
    WeChat tag id the followers carry (to map them to local tags before the rows are stored)."""

    rows: list[FollowerRow]
    gone: list[str]
    tagids: set[int]


def _seconds(value) -> int | None:
    if type(value) is not int:
        try:
            value = int(value)
        except (TypeError, ValueError):
            return None
    return value if value > 0 else None


def _tagids(values) -> tuple[int, ...]:
    try:
        return tuple(map(int, values))
    except (TypeError, ValueError):
        ids = []
        for value in values:
            try:
                ids.append(int(value))
            except (TypeError, ValueError):
                continue
        return tuple(ids)


def follower_row(data: dict) -> FollowerRow:
    """One subscribed user/info entry, current or legacy (pre-2021, with nickname) shape, as a ``FollowerRow``."""
    get = data.get
    qr_scene = get("qr_scene_str") or get("qr_scene") or ""
    tags = get("tagid_list")
    return (
        str(get("openid") or ""),
        str(get("unionid") or "").strip()[:64],
        str(get("subscribe_scene") or "")[:32],
        str(qr_scene)[:64],
        str(get("language") or "")[:16],
        str(get("remark") or "")[:30],
        _seconds(get("subscribe_time")),
        _tagids(tags) if tags else (),
    )


def user_info_rows(entries) -> UserInfoRows:
    """Rows of the subscribed entries, openids of the unsubscribed ones; entries without an openid are skipped."""
    rows, gone, tagids = [], [], set()
    for data in entries:
        openid = data.get("openid")
        if not openid:
            continue
        if not int(data.get("subscribe") or 0):
            gone.append(str(openid))
            continue
        row = follower_row(data)
        if row[7]:
            tagids.update(row[7])
        rows.append(row)
    return UserInfoRows(rows, gone, tagids)


def user_info_parse(data: dict) -> dict:
    """Follower field values from one user/info entry, by name (current or legacy shape)."""
    openid = str(data.get("openid") or "")
    if not int(data.get("subscribe") or 0):
        return {"openid": openid, "subscribed": False, "unionid": str(data.get("unionid") or "").strip()[:64]}
    values = dict(zip(ROW_FIELDS, follower_row(data), strict=True))
    seconds = values["subscribe_time"]
    values["subscribe_time"] = datetime.fromtimestamp(seconds, tz=UTC) if seconds else None
    values["tagids"] = list(values["tagids"])
    return {"subscribed": True, **values}


def copy_lines(rows: list[FollowerRow]) -> list[str]:
    """Rows as lines of PostgreSQL's COPY text format, columns in ``ROW_FIELDS`` order (tag ids as an array)."""
    lines = []
    append = lines.append
    for openid, unionid, scene, qr_scene, language, remark, seconds, tagids in rows:
        text = f"{openid}\t{unionid}\t{scene}\t{qr_scene}\t{language}\t{remark}"
        # Tabs, newlines, backslashes and NULs are rare (a remark, a QR scene string): escape only then.
        if text.count("\t") != 5 or "\\" in text or "\n" in text or "\r" in text or "\x00" in text:
            text = "\t".join(v.translate(_COPY_ESCAPES) for v in (openid, unionid, scene, qr_scene, language, remark))
        array = "{" + ",".join(map(str, tagids)) + "}" if tagids else "{}"
        append(f"{text}\t{NULL if seconds is None else seconds}\t{array}\n")
    return lines

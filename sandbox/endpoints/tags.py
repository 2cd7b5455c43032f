"""Tags, tag members, blacklist and remarks (API.md §4), with WeChat's limits and errcodes."""

from __future__ import annotations

from django.db import connection
from django.db.models import Max

from ..core import Call, SandboxError, endpoint
from ..models import SandboxFollower, SandboxTag

# WeChat's system tags: they exist on every account and cannot be changed or deleted.
RESERVED = {0: "未分组", 1: "黑名单", 2: "星标组"}
LISTED_RESERVED = (2,)  # tags/get shows the star tag (星标组); 0 and 1 are implicit
FIRST_TAG_ID = 100
MAX_TAGS = 100
MAX_TAGS_PER_FOLLOWER = 20
MAX_NAME_BYTES = 30
MAX_TAGGING_OPENIDS = 50
MAX_BLACKLIST_OPENIDS = 20
MAX_DELETABLE_COUNT = 100_000
TAG_PAGE_SIZE = 10_000
# The 2025 subscription-account doc says 1,000, the older one 10,000: the sandbox uses the smaller.
BLACKLIST_PAGE_SIZE = 1_000
MAX_REMARK_CHARS = 29


def _name(call: Call) -> str:
    tag = call.json.get("tag")
    if not isinstance(tag, dict):
        raise SandboxError(47001)
    name = tag.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SandboxError(45157, "invalid tag name")
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise SandboxError(45158, "tag name too long")
    return name


def _tag_id(call: Call, value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise SandboxError(45159, "invalid tag id") from exc


def _user_tag(call: Call, tagid: int) -> SandboxTag:
    if tagid in RESERVED:
        raise SandboxError(45058, "can't modify sys tag")
    tag = SandboxTag.objects.filter(app=call.app, tagid=tagid).first()
    if tag is None:
        raise SandboxError(45159, "invalid tag id")
    return tag


def _exists(call: Call, tagid: int) -> bool:
    return tagid in LISTED_RESERVED or SandboxTag.objects.filter(app=call.app, tagid=tagid).exists()


def _name_taken(call: Call, name: str, *, exclude: int | None = None) -> bool:
    if name in RESERVED.values():
        return True
    return SandboxTag.objects.filter(app=call.app, name=name).exclude(tagid=exclude).exists()


def tag_counts(app) -> dict[int, int]:
    """Followers per tag id, counted by the database (a million followers' tag lists never reach Python)."""
    table = SandboxFollower._meta.db_table
    elements = "jsonb_array_elements_text(f.tagids)" if connection.vendor == "postgresql" else "json_each(f.tagids)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT CAST(e.value AS integer), count(*) FROM {table} f, {elements} e "  # noqa: S608
            "WHERE f.app_id = %s AND f.subscribed GROUP BY 1",
            [app.pk],
        )
        return dict(cursor.fetchall())


@endpoint("cgi-bin/tags/create", methods=("POST",))
def create(call: Call) -> dict:
    name = _name(call)
    if _name_taken(call, name):
        raise SandboxError(45157, "tag name duplicated")
    if SandboxTag.objects.filter(app=call.app).count() >= MAX_TAGS:
        raise SandboxError(45056, "too many tag now, no need to add new")
    last = SandboxTag.objects.filter(app=call.app).aggregate(m=Max("tagid"))["m"] or FIRST_TAG_ID - 1
    tag = SandboxTag.objects.create(app=call.app, tagid=last + 1, name=name)
    return {"tag": {"id": tag.tagid, "name": tag.name}}


@endpoint("cgi-bin/tags/get", methods=("GET",))
def get(call: Call) -> dict:
    counts = tag_counts(call.app)
    tags = [{"id": tagid, "name": RESERVED[tagid], "count": counts.get(tagid, 0)} for tagid in LISTED_RESERVED]
    tags += [{"id": t.tagid, "name": t.name, "count": counts.get(t.tagid, 0)} for t in SandboxTag.objects.filter(app=call.app)]
    return {"tags": tags}


@endpoint("cgi-bin/tags/update", methods=("POST",))
def update(call: Call) -> dict:
    tag = _user_tag(call, _tag_id(call, (call.json.get("tag") or {}).get("id")))
    name = _name(call)
    if name != tag.name and _name_taken(call, name, exclude=tag.tagid):
        raise SandboxError(45157, "tag name duplicated")
    tag.name = name
    tag.save(update_fields=["name"])
    return {"errcode": 0, "errmsg": "ok"}


@endpoint("cgi-bin/tags/delete", methods=("POST",))
def delete(call: Call) -> dict:
    tag = _user_tag(call, _tag_id(call, (call.json.get("tag") or {}).get("id")))
    if tag_counts(call.app).get(tag.tagid, 0) > MAX_DELETABLE_COUNT:
        raise SandboxError(45057, "too many fans in this tag, can't delete")
    tagged = list(SandboxFollower.objects.filter(app=call.app).exclude(tagids=[]))
    changed = [f for f in tagged if tag.tagid in f.tagids]
    for follower in changed:
        follower.tagids = [t for t in follower.tagids if t != tag.tagid]
    SandboxFollower.objects.bulk_update(changed, ["tagids"], batch_size=1000)
    tag.delete()
    return {"errcode": 0, "errmsg": "ok"}


def _openid_list(call: Call, limit: int) -> list[SandboxFollower]:
    openids = call.json.get("openid_list")
    if not isinstance(openids, list) or not openids or len(openids) > limit:
        raise SandboxError(40032, "invalid openid list size")
    followers = {f.openid: f for f in SandboxFollower.objects.filter(app=call.app, openid__in=[str(o) for o in openids])}
    if any(str(o) not in followers for o in openids):
        raise SandboxError(40003, "invalid openid")
    return list(followers.values())


def _tagging_target(call: Call) -> int:
    tagid = _tag_id(call, call.json.get("tagid"))
    if tagid in (0, 1) or not _exists(call, tagid):
        raise SandboxError(45159, "invalid tag id")
    return tagid


@endpoint("cgi-bin/tags/members/batchtagging", methods=("POST",))
def batchtagging(call: Call) -> dict:
    tagid = _tagging_target(call)
    followers = _openid_list(call, MAX_TAGGING_OPENIDS)
    todo = [f for f in followers if tagid not in f.tagids]
    if any(len(f.tagids) >= MAX_TAGS_PER_FOLLOWER for f in todo):
        raise SandboxError(45059, "user tag count exceed limit")
    for follower in todo:
        follower.tagids = [*follower.tagids, tagid]
    SandboxFollower.objects.bulk_update(todo, ["tagids"])
    return {"errcode": 0, "errmsg": "ok"}


@endpoint("cgi-bin/tags/members/batchuntagging", methods=("POST",))
def batchuntagging(call: Call) -> dict:
    tagid = _tagging_target(call)
    followers = _openid_list(call, MAX_TAGGING_OPENIDS)
    todo = [f for f in followers if tagid in f.tagids]
    for follower in todo:
        follower.tagids = [t for t in follower.tagids if t != tagid]
    SandboxFollower.objects.bulk_update(todo, ["tagids"])
    return {"errcode": 0, "errmsg": "ok"}


@endpoint("cgi-bin/tags/getidlist", methods=("POST",))
def getidlist(call: Call) -> dict:
    follower = SandboxFollower.objects.filter(app=call.app, openid=str(call.json.get("openid", ""))).first()
    if follower is None:
        raise SandboxError(40003, "invalid openid")
    return {"tagid_list": list(follower.tagids)}


def _page(queryset, start: str, size: int) -> tuple[list[str], str]:
    """One page of openids in WeChat's order, starting after ``start``."""
    if start:
        anchor = queryset.filter(openid=start).values_list("id", flat=True).first()
        if anchor is None:
            raise SandboxError(40003, "invalid next_openid")
        queryset = queryset.filter(id__gt=anchor)
    openids = list(queryset.order_by("id").values_list("openid", flat=True)[:size])
    return openids, (openids[-1] if openids else "")


@endpoint("cgi-bin/user/tag/get", methods=("POST",))
def tag_members(call: Call) -> dict:
    tagid = _tag_id(call, call.json.get("tagid"))
    if not _exists(call, tagid):
        raise SandboxError(45159, "invalid tag id")
    members = [
        pk
        for pk, tagids in SandboxFollower.objects.filter(app=call.app, subscribed=True)
        .exclude(tagids=[])
        .values_list("id", "tagids")
        if tagid in tagids
    ]
    openids, next_openid = _page(
        SandboxFollower.objects.filter(id__in=members), str(call.json.get("next_openid") or ""), TAG_PAGE_SIZE
    )
    body = {"count": len(openids), "next_openid": next_openid}
    if openids:
        body["data"] = {"openid": openids}
    return body


@endpoint("cgi-bin/tags/members/getblacklist", methods=("POST",))
def getblacklist(call: Call) -> dict:
    blacklisted = SandboxFollower.objects.filter(app=call.app, blacklisted=True)
    openids, next_openid = _page(blacklisted, str(call.json.get("begin_openid") or ""), BLACKLIST_PAGE_SIZE)
    body = {"total": blacklisted.count(), "count": len(openids), "next_openid": next_openid}
    if openids:
        body["data"] = {"openid": openids}
    return body


def _blacklist(call: Call, value: bool) -> dict:
    followers = _openid_list(call, MAX_BLACKLIST_OPENIDS)
    SandboxFollower.objects.filter(pk__in=[f.pk for f in followers]).update(blacklisted=value)
    return {"errcode": 0, "errmsg": "ok"}


@endpoint("cgi-bin/tags/members/batchblacklist", methods=("POST",))
def batchblacklist(call: Call) -> dict:
    return _blacklist(call, True)


@endpoint("cgi-bin/tags/members/batchunblacklist", methods=("POST",))
def batchunblacklist(call: Call) -> dict:
    return _blacklist(call, False)


@endpoint("cgi-bin/user/info/updateremark", methods=("POST",))
def updateremark(call: Call) -> dict:
    if not call.app.verified:
        raise SandboxError(48001)
    remark = call.json.get("remark")
    if not isinstance(remark, str):
        raise SandboxError(47001)
    if len(remark) > MAX_REMARK_CHARS:
        raise SandboxError(45002, "content size out of limit")
    follower = SandboxFollower.objects.filter(app=call.app, openid=str(call.json.get("openid", ""))).first()
    if follower is None or not follower.subscribed:
        raise SandboxError(40003, "invalid openid")
    follower.remark = remark
    follower.save(update_fields=["remark"])
    return {"errcode": 0, "errmsg": "ok"}

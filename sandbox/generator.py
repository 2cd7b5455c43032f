"""Deterministic sandbox followers in bulk (up to millions), for demos, tests and the follower-sync bench.

Follower ``i`` of an app is always the same person: its openid is ``o`` + 27 characters derived from
(appid, i), its unionid (for a third of them) the same length from that digest, and every other field comes
from the same digest, so two runs produce identical rows.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from collections.abc import Iterator

from django.db import connection, transaction

from .models import SandboxApp, SandboxFollower, SandboxTag

CHUNK = 20_000
# WeChat's subscribe_scene values (API.md §4), weighted roughly like a real account.
SCENES = (
    ["ADD_SCENE_SEARCH"] * 6
    + ["ADD_SCENE_QR_CODE"] * 5
    + ["ADD_SCENE_PROFILE_CARD"] * 2
    + ["ADD_SCENE_ACCOUNT_MIGRATION", "ADD_SCENE_PROFILE_LINK", "ADD_SCENE_PROFILE_ITEM", "ADD_SCENE_PAID"]
    + ["ADD_SCENE_WECHAT_ADVERTISEMENT", "ADD_SCENE_REPRINT", "ADD_SCENE_LIVESTREAM", "ADD_SCENE_CHANNELS"]
    + ["ADD_SCENE_WXA", "ADD_SCENE_OTHERS"]
)
LANGUAGES = ["zh_CN"] * 12 + ["zh_TW", "zh_HK", "en"]
DEMO_TAGS = {100: "星标客户 VIP", 101: "广东", 102: "新用户"}
FIRST_SUBSCRIBE = 1_420_070_400  # 2015-01-01
SUBSCRIBE_SPAN = 10 * 365 * 86_400


def openid_for(appid: str, index: int) -> str:
    digest = hashlib.blake2b(f"{appid}:{index}".encode(), digest_size=21).digest()
    return "o" + base64.urlsafe_b64encode(digest).decode()[:27]


def unionid_for(seed: bytes) -> str:
    """A UnionID shaped like WeChat's: 28 characters, ``o`` then 27 URL-safe base64 characters."""
    return "o" + base64.urlsafe_b64encode(hashlib.blake2b(seed, digest_size=21, person=b"unionid").digest()).decode()[:27]


def _tagids(byte: int, tag_pool: list[int]) -> list[int]:
    if not tag_pool or byte % 10 >= 3:  # 30% of followers carry tags
        return []
    first = tag_pool[byte % len(tag_pool)]
    if byte % 10 == 0 and len(tag_pool) > 1:
        return [first, tag_pool[(byte + 1) % len(tag_pool)]]
    return [first]


def follower_fields(appid: str, index: int, tag_pool: list[int]) -> dict:
    """Every field of generated follower ``index``; pure and deterministic."""
    digest = hashlib.blake2b(f"{appid}:{index}".encode(), digest_size=21).digest()
    openid = "o" + base64.urlsafe_b64encode(digest).decode()[:27]
    b = hashlib.blake2b(digest, digest_size=16).digest()
    scene = SCENES[b[0] % len(SCENES)]
    unionid = ""
    if b[1] % 3 == 0:  # a third are bound to an Open Platform account
        unionid = unionid_for(digest)
    qr_scene, qr_scene_str = 0, ""
    if scene == "ADD_SCENE_QR_CODE":
        if b[3] % 2:
            qr_scene = 1 + b[4] * 256 + b[5]
        else:
            qr_scene_str = f"promo_{b[4] % 16}"
    return {
        "openid": openid,
        "unionid": unionid,
        "subscribed": True,
        "subscribe_time": FIRST_SUBSCRIBE + int.from_bytes(b[6:10]) % SUBSCRIBE_SPAN,
        "subscribe_scene": scene,
        "qr_scene": qr_scene,
        "qr_scene_str": qr_scene_str,
        "language": LANGUAGES[b[10] % len(LANGUAGES)],
        "remark": f"客户{index}" if b[11] % 50 == 0 else "",
        "tagids": _tagids(b[12], tag_pool),
        "blacklisted": False,
    }


def _tag_pool(app: SandboxApp) -> list[int]:
    existing = list(SandboxTag.objects.filter(app=app).values_list("tagid", flat=True))
    if existing:
        return existing
    for tagid, name in DEMO_TAGS.items():
        SandboxTag.objects.get_or_create(app=app, tagid=tagid, defaults={"name": name})
    return list(SandboxTag.objects.filter(app=app).values_list("tagid", flat=True))


def _rows(app: SandboxApp, start: int, stop: int, tag_pool: list[int]) -> Iterator[dict]:
    for index in range(start, stop):
        yield follower_fields(app.appid, index, tag_pool)


def followers_generate(*, app: SandboxApp, n: int, start: int = 0) -> int:
    """Ensure followers ``start .. start+n-1`` exist for ``app`` (existing openids are left alone). Returns n."""
    tag_pool = _tag_pool(app)
    insert = _copy_chunk if connection.vendor == "postgresql" else _bulk_chunk
    for chunk_start in range(start, start + n, CHUNK):
        chunk_stop = min(chunk_start + CHUNK, start + n)
        with transaction.atomic():
            insert(app, list(_rows(app, chunk_start, chunk_stop, tag_pool)))
    # Fresh statistics, so the planner looks followers up by the (app, openid) index, not by app alone.
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {SandboxFollower._meta.db_table}")
    return n


def _bulk_chunk(app: SandboxApp, rows: list[dict]) -> None:
    """Other databases (SQLite): one executemany, ~10x faster than bulk_create for these volumes."""
    table = SandboxFollower._meta.db_table
    columns = ", ".join(GENERATED_COLUMNS)
    placeholders = ", ".join(["%s"] * (len(GENERATED_COLUMNS) + 1))
    params = [[app.pk, *(json.dumps(row[c]) if c == "tagids" else row[c] for c in GENERATED_COLUMNS)] for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (app_id, {columns}) VALUES ({placeholders}) ON CONFLICT (app_id, openid) DO NOTHING",  # noqa: S608
            params,
        )


GENERATED_COLUMNS = (
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
    "blacklisted",
)


def _copy_chunk(app: SandboxApp, rows: list[dict]) -> None:
    """PostgreSQL: COPY into a temporary table, then insert what is new (ids in generation order)."""
    table = SandboxFollower._meta.db_table
    buf = io.StringIO()
    for row in rows:
        tagids = "[" + ",".join(str(t) for t in row["tagids"]) + "]"
        values = [str(row[c]) if c not in ("subscribed", "blacklisted", "tagids") else "" for c in GENERATED_COLUMNS]
        values[GENERATED_COLUMNS.index("subscribed")] = "t" if row["subscribed"] else "f"
        values[GENERATED_COLUMNS.index("blacklisted")] = "t" if row["blacklisted"] else "f"
        values[GENERATED_COLUMNS.index("tagids")] = tagids
        buf.write("\t".join(values) + "\n")
    buf.seek(0)
    columns = ", ".join(GENERATED_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS sandbox_follower_load (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        cursor.execute("ALTER TABLE sandbox_follower_load ALTER COLUMN id DROP NOT NULL, ALTER COLUMN app_id DROP NOT NULL")
        cursor.execute("TRUNCATE sandbox_follower_load")  # inside an outer transaction ON COMMIT has not run yet
        cursor.cursor.copy_expert(f"COPY sandbox_follower_load ({columns}) FROM STDIN", buf)
        # Table and column names are module constants, not input.
        insert = (
            f"INSERT INTO {table} (app_id, {columns}) SELECT %s, {columns} FROM sandbox_follower_load "  # noqa: S608
            "ORDER BY ctid ON CONFLICT (app_id, openid) DO NOTHING"
        )
        cursor.execute(insert, [app.pk])


DEMO_FOLLOWERS = 200


def followers_demo_seed(*, account, app) -> None:
    """``make run`` demo data: 200 followers on WeChat's side, then a full follower sync into the back office."""
    from followers.services.sync import SyncAlreadyRunning, follower_sync_all

    followers_generate(app=app, n=DEMO_FOLLOWERS)
    try:
        follower_sync_all(account=account)
    except SyncAlreadyRunning:
        return

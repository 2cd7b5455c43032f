"""Writing the followers a sync read: one chunk of rows in one statement.

On PostgreSQL a chunk is COPYed into a per-connection staging table, then one statement upserts the followers and
makes their WeChat-held tag memberships equal to WeChat's lists (data-modifying CTEs: no follower id comes back to
Python). Elsewhere (SQLite, the embedded default) one executemany upserts and the memberships are compared in
Python. Rows are ``sync_rows.FollowerRow`` tuples.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from functools import cache

from django.db import connection
from django.utils import timezone

from accounts.models import OfficialAccount
from followers.models import Follower, Tag
from wechat.models import SyncStatus

from .sync_rows import ROW_FIELDS, FollowerRow, copy_lines

STAGE = "follower_sync_rows"
_STAGE_TYPES = {"subscribe_time": "bigint", "tagids": "integer[]"}


class TagMap:
    """WeChat tag id → local Tag id for one account; unknown ids get a placeholder row named 'tag <id>'."""

    def __init__(self, account: OfficialAccount):
        self.account = account
        self.ids = dict(Tag.objects.filter(account=account, wechat_id__isnull=False).values_list("wechat_id", "id"))
        self.created = 0

    def resolve(self, wechat_ids) -> dict[int, int]:
        missing = {w for w in wechat_ids if w not in self.ids}
        if missing:
            self._create(missing)
        return self.ids

    def _create(self, wechat_ids: set[int]) -> None:
        taken = set(Tag.objects.filter(account=self.account).values_list("name", flat=True))
        rows = []
        for wechat_id in sorted(wechat_ids):
            name = f"tag {wechat_id}"
            while name in taken:
                name += "*"
            taken.add(name)
            # Synced, not pending: the name is WeChat's to give (the next tags pull renames it), not ours to push.
            rows.append(Tag(account=self.account, wechat_id=wechat_id, name=name[:30], sync_status=SyncStatus.SYNCED))
        # A concurrent tags pull may have created some of them: keep its rows.
        Tag.objects.bulk_create(rows, ignore_conflicts=True)
        self.ids = dict(Tag.objects.filter(account=self.account, wechat_id__isnull=False).values_list("wechat_id", "id"))
        self.created += len(rows)


def followers_store(
    *,
    account: OfficialAccount,
    rows: list[FollowerRow],
    gone: list[str] = (),
    tag_map: TagMap,
    tagids: set[int] | None = None,
    copy_text: str | None = None,
    now: datetime | None = None,
    wait_for_disk: bool = True,
) -> int:
    """Upsert the subscribed followers of ``rows`` and mark the ``gone`` openids unsubscribed.

    WeChat-held tag memberships (tags with a WeChat id) are made equal to each follower's tag ids. ``tagids`` (every
    WeChat tag id in ``rows``) and ``copy_text`` (``rows`` as COPY lines) may be given when the caller already has
    them. ``wait_for_disk=False`` lets the enclosing transaction commit without waiting for PostgreSQL to flush it
    (for a caller that can redo the work: a crash loses the transaction whole). Returns the number of followers
    written.
    """
    now = now or timezone.now()
    if gone:
        Follower.objects.filter(account=account, openid__in=gone, subscribed=True).update(
            subscribed=False, unsubscribed_at=now, updated_at=now
        )
        Follower.objects.filter(account=account, openid__in=gone).update(synced_at=now)
    if not rows:
        return len(gone)
    tag_map.resolve(tagids if tagids is not None else {t for row in rows for t in row[7]})
    if connection.vendor == "postgresql":
        _store_by_copy(account, rows if copy_text is None else None, copy_text, now, wait_for_disk=wait_for_disk)
    else:
        _store_by_rows(account, rows, tag_map, now)
    return len(rows) + len(gone)


# What a sync must not erase: user/info without a subscribe_scene keeps the stored one, and without a QR scene
# (while it still says, or does not say, ADD_SCENE_QR_CODE) keeps the scene the follow event recorded.
_KEEP = {
    "subscribe_scene": "CASE WHEN EXCLUDED.subscribe_scene = '' THEN {table}.subscribe_scene ELSE EXCLUDED.subscribe_scene END",
    "qr_scene": "CASE WHEN EXCLUDED.qr_scene = '' AND EXCLUDED.subscribe_scene IN ('', 'ADD_SCENE_QR_CODE') "
    "THEN {table}.qr_scene ELSE EXCLUDED.qr_scene END",
}
# The same for every row of a chunk: bound once as parameters, not repeated in every row.
_SAME = {"subscribed": True, "unsubscribed_at": None}
_STAMPED = ("synced_at", "updated_at")


def _columns(account: OfficialAccount, now: datetime) -> tuple[list, dict[str, object]]:
    """The follower table's columns (no id) and the value of each one the rows do not carry: the account, the values
    every synced follower has, ``now`` for the timestamps, the model's default for the rest."""
    fields = [f for f in Follower._meta.concrete_fields if not f.primary_key]
    constants = {}
    for field in fields:
        if field.attname in ROW_FIELDS:
            continue
        if field.attname == "account_id":
            value = account.pk
        elif field.attname in _SAME:
            value = _SAME[field.attname]
        elif field.attname in _STAMPED or getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        else:
            value = field.get_default()
        constants[field.column] = field.get_db_prep_save(value, connection)
    return fields, constants


def _conflict_clause(fields) -> str:
    quote = connection.ops.quote_name
    table = quote(Follower._meta.db_table)
    written = [f.column for f in fields if f.attname in ROW_FIELDS or f.attname in _SAME or f.attname in _STAMPED]
    updates = ", ".join(
        f"{quote(c)} = {_KEEP[c].format(table=table) if c in _KEEP else f'EXCLUDED.{quote(c)}'}" for c in written if c != "openid"
    )
    return f"ON CONFLICT ({quote('account_id')}, {quote('openid')}) DO UPDATE SET {updates}"


@cache
def _copy_statements() -> tuple[str, str, str]:
    """PostgreSQL: (create and empty the staging table, COPY into it, the statement that stores a chunk from it).

    The last one takes the constant columns' values (``_columns`` order), then the account's id twice."""
    quote = connection.ops.quote_name
    fields = [f for f in Follower._meta.concrete_fields if not f.primary_key]
    table = quote(Follower._meta.db_table)
    through = Follower.tags.through
    memberships = quote(through._meta.db_table)
    follower_id = quote(through._meta.get_field("follower").column)
    tag_id = quote(through._meta.get_field("tag").column)
    tags = quote(Tag._meta.db_table)
    values = []
    for field in fields:
        if field.attname == "subscribe_time":
            values.append("to_timestamp(stage.subscribe_time)")
        elif field.attname in ROW_FIELDS:
            values.append(f"stage.{quote(field.column)}")
        else:
            values.append("%s")
    stage_columns = ", ".join(f"{name} {_STAGE_TYPES.get(name, 'text')}" for name in ROW_FIELDS)
    # One round trip: the table lives as long as the connection, its rows as long as the chunk.
    prepare = f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} ({stage_columns}); TRUNCATE {STAGE}"
    copy = f"COPY {STAGE} ({', '.join(ROW_FIELDS)}) FROM STDIN"
    # Table and column names come from the models, not from input.
    store = f"""
        WITH stage AS (SELECT DISTINCT ON (openid) * FROM {STAGE}),
        stored AS (
            INSERT INTO {table} ({", ".join(quote(f.column) for f in fields)})
            SELECT {", ".join(values)} FROM stage {_conflict_clause(fields)}
            RETURNING id, openid, (xmax = 0) AS inserted
        ),
        wanted AS (
            SELECT stored.id AS follower_id, tag.id AS tag_id
            FROM stored JOIN stage ON stage.openid = stored.openid
            JOIN {tags} tag ON tag.account_id = %s AND tag.wechat_id = ANY (stage.tagids)
            WHERE stage.tagids <> '{{}}'
        ),
        stale AS (
            -- The chunk's followers' memberships by the index on follower ids: a join would scan the whole table.
            DELETE FROM {memberships} m USING {tags} tag
            WHERE m.{follower_id} = ANY (ARRAY(SELECT id FROM stored WHERE NOT inserted))
            AND tag.id = m.{tag_id} AND tag.account_id = %s AND tag.wechat_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM wanted WHERE wanted.follower_id = m.{follower_id} AND wanted.tag_id = m.{tag_id})
        )
        INSERT INTO {memberships} ({follower_id}, {tag_id}) SELECT follower_id, tag_id FROM wanted ON CONFLICT DO NOTHING
    """  # noqa: S608
    return prepare, copy, store


def _store_by_copy(
    account: OfficialAccount, rows: list[FollowerRow] | None, copy_text: str | None, now: datetime, *, wait_for_disk: bool
) -> None:
    """PostgreSQL: COPY into the staging table, then one statement for the followers and their memberships."""
    if copy_text is None:
        copy_text = "".join(copy_lines(rows))
    prepare, copy, store = _copy_statements()
    _, constants = _columns(account, now)
    with connection.cursor() as cursor:
        cursor.execute(prepare if wait_for_disk else f"SET LOCAL synchronous_commit TO OFF; {prepare}")
        cursor.cursor.copy_expert(copy, io.StringIO(copy_text), size=1 << 16)
        cursor.execute(store, [*constants.values(), account.pk, account.pk])


def _store_by_rows(account: OfficialAccount, rows: list[FollowerRow], tag_map: TagMap, now: datetime) -> None:
    """Other databases: one executemany upsert, then the memberships compared in Python."""
    # One row per openid (a repeated openid would make the upsert touch a row twice).
    unique = list({row[0]: row for row in rows}.values())
    fields, constants = _columns(account, now)
    quote = connection.ops.quote_name
    table = quote(Follower._meta.db_table)
    names = [f.column for f in fields]
    position = {name: i for i, name in enumerate(ROW_FIELDS)}
    adapt = connection.ops.adapt_datetimefield_value
    params = []
    for row in unique:
        values = []
        for name in names:
            if name == "subscribe_time":
                seconds = row[position[name]]
                values.append(adapt(datetime.fromtimestamp(seconds, tz=UTC)) if seconds else None)
            elif name in position:
                values.append(row[position[name]])
            else:
                values.append(constants[name])
        params.append(values)
    placeholders = ", ".join(["%s"] * len(names))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({', '.join(map(quote, names))}) VALUES ({placeholders}) {_conflict_clause(fields)}",  # noqa: S608
            params,
        )
    ids = dict(Follower.objects.filter(account=account, openid__in=[row[0] for row in unique]).values_list("openid", "id"))
    _memberships_set(tag_map, {ids[row[0]]: row[7] for row in unique})


def _memberships_set(tag_map: TagMap, wanted_by_follower: dict[int, tuple[int, ...]]) -> None:
    through = Follower.tags.through
    ids = tag_map.ids
    wanted = {(fid, ids[w]) for fid, tagids in wanted_by_follower.items() for w in tagids}
    # Only tags WeChat knows (a local tag not yet created there is ours to keep).
    existing = {
        (fid, tid): pk
        for pk, fid, tid in through.objects.filter(
            follower_id__in=list(wanted_by_follower), tag_id__in=list(ids.values())
        ).values_list("id", "follower_id", "tag_id")
    }
    stale = [pk for pair, pk in existing.items() if pair not in wanted]
    if stale:
        through.objects.filter(pk__in=stale).delete()
    new = [through(follower_id=fid, tag_id=tid) for fid, tid in wanted if (fid, tid) not in existing]
    if new:
        through.objects.bulk_create(new, ignore_conflicts=True)

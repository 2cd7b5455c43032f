"""Tags (标签): local checks, create/rename/delete sent to WeChat by tasks, pulls of tags and their members."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

import jobs
from accounts.models import OfficialAccount
from followers.models import Follower, Tag
from wechat.api import tags as wechat_tags
from wechat.errors import WeChatError
from wechat.models import SyncStatus

logger = logging.getLogger(__name__)


# Tags, blacklist and remarks (API.md §4). Admin saves are local; tasks send them to WeChat.

RESERVED_TAG_NAMES = ("未分组", "黑名单", "星标组")
_DB_CHUNK = 5000


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def tag_is_reserved(tag: Tag) -> bool:
    return tag.wechat_id is not None and tag.wechat_id in Tag.RESERVED_IDS


def tag_name_clean(*, account: OfficialAccount, name: str, tag: Tag | None = None) -> str:
    """The name as it will be sent, or a ValidationError naming the WeChat rule it breaks."""
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("A tag needs a name."), code="required")
    size = len(name.encode("utf-8"))
    if size > Tag.MAX_NAME_BYTES:
        raise ValidationError(
            _(
                "WeChat allows tag names of at most 30 bytes in UTF-8 (10 Chinese characters); "
                "this one has %(size)d bytes (WeChat error 45158)."
            )
            % {"size": size},
            code="name_too_long",
        )
    if name in RESERVED_TAG_NAMES:
        raise ValidationError(
            _("“%(name)s” is one of WeChat's system tags (WeChat error 45157).") % {"name": name}, code="reserved_name"
        )
    clash = Tag.objects.filter(account=account, name=name)
    if tag is not None and tag.pk:
        clash = clash.exclude(pk=tag.pk)
    if clash.exists():
        raise ValidationError(
            _("This account already has a tag named “%(name)s” (WeChat error 45157).") % {"name": name}, code="duplicate"
        )
    return name


def tag_reserved_check(*, tag: Tag) -> None:
    if tag_is_reserved(tag):
        raise ValidationError(
            _("Tags 0, 1 and 2 are WeChat's system tags and cannot be changed (WeChat error 45058)."), code="reserved"
        )


def tag_create_check(*, account: OfficialAccount) -> None:
    user_tags = Tag.objects.filter(account=account).exclude(wechat_id__in=Tag.RESERVED_IDS).count()
    if user_tags >= Tag.MAX_PER_ACCOUNT:
        raise ValidationError(
            _("An account can have at most %(max)d tags; delete one first (WeChat error 45056).") % {"max": Tag.MAX_PER_ACCOUNT},
            code="too_many_tags",
        )


def _tag_sync_enqueue(tag_id: int) -> None:

    transaction.on_commit(lambda: jobs.task("accounts.tasks.tag_sync").delay(tag_id))


@transaction.atomic
def tag_create(*, account: OfficialAccount, name: str) -> Tag:
    """Create the tag locally (pending) and send it to WeChat after commit."""
    # Serialise creations per account so the 100-tag check cannot be raced.
    OfficialAccount.objects.select_for_update().only("pk").get(pk=account.pk)
    name = tag_name_clean(account=account, name=name)
    tag_create_check(account=account)
    tag = Tag.objects.create(account=account, name=name, sync_status=SyncStatus.PENDING)
    _tag_sync_enqueue(tag.pk)
    return tag


@transaction.atomic
def tag_rename(*, tag: Tag, name: str) -> Tag:
    tag_reserved_check(tag=tag)
    tag.name = tag_name_clean(account=tag.account, name=name, tag=tag)
    tag.sync_status = SyncStatus.PENDING
    tag.last_error = ""
    tag.save(update_fields=["name", "sync_status", "last_error"])
    _tag_sync_enqueue(tag.pk)
    return tag


def tag_delete(*, tag: Tag) -> None:
    """Delete on WeChat first (if it is there), then locally. WeChat refusing (e.g. 45057) keeps the row."""
    tag_reserved_check(tag=tag)
    if tag.wechat_id is not None:
        try:
            wechat_tags.tag_delete(account=tag.account, tag_id=tag.wechat_id)
        except WeChatError as exc:
            if exc.errcode != 45159:  # 45159: WeChat no longer has it, which is what we want
                raise
    tag.delete()


def _adopt_existing_tag_id(account, name: str) -> int | None:
    """After a create that timed out or came back 'duplicate': the id WeChat has for this name, if any."""
    for remote in wechat_tags.tags_list(account=account):
        if remote.name == name:
            return remote.id
    return None


def tag_sync(*, tag_id: int, last_attempt: bool = True) -> Tag | None:
    """Send one pending tag to WeChat (create or rename). Idempotent: only a pending row is claimed."""
    if not Tag.objects.filter(pk=tag_id, sync_status=SyncStatus.PENDING).update(sync_status=SyncStatus.SYNCING):
        return None
    tag = Tag.objects.select_related("account").get(pk=tag_id)
    try:
        if tag.wechat_id is None:
            try:
                wechat_id = wechat_tags.tag_create(account=tag.account, name=tag.name)
            except WeChatError as exc:
                # A create that timed out may have happened: WeChat then answers 45157 for the same name.
                wechat_id = _adopt_existing_tag_id(tag.account, tag.name) if exc.errcode == 45157 else None
                if wechat_id is None:
                    raise
            Tag.objects.filter(pk=tag.pk).update(wechat_id=wechat_id)
        else:
            wechat_tags.tag_update(account=tag.account, tag_id=tag.wechat_id, name=tag.name)
    except WeChatError as exc:
        _record_failure(Tag.objects.filter(pk=tag.pk), exc, last_attempt=last_attempt)
        raise
    Tag.objects.filter(pk=tag.pk, sync_status=SyncStatus.SYNCING).update(
        sync_status=SyncStatus.SYNCED, synced_at=timezone.now(), last_error=""
    )
    tag.refresh_from_db()
    return tag


def _record_failure(rows, exc: WeChatError, *, last_attempt: bool) -> None:
    """Transient errors put the row back to pending for the retry; the rest (or the last try) mark it failed."""
    status = SyncStatus.PENDING if exc.is_transient and not last_attempt else SyncStatus.FAILED
    rows.filter(sync_status=SyncStatus.SYNCING).update(sync_status=status, last_error=exc.display[:255])
    logger.warning("accounts.sync_failed", extra={"errcode": exc.errcode, "status": status})


@dataclass
class TagsPullResult:
    created: int = 0
    updated: int = 0
    deleted: int = 0


def tags_pull(*, account: OfficialAccount) -> TagsPullResult:
    """Upsert the account's tags from tags/get by WeChat id, with WeChat's follower counts."""
    remote = {r.id: r for r in wechat_tags.tags_list(account=account)}
    with transaction.atomic():
        return _tags_store(account, remote)


def _tags_store(account: OfficialAccount, remote: dict[int, wechat_tags.RemoteTag]) -> TagsPullResult:
    result = TagsPullResult()
    stale = Tag.objects.filter(account=account, wechat_id__isnull=False).exclude(wechat_id__in=remote)
    result.deleted = stale.count()
    stale.delete()
    local = {t.wechat_id: t for t in Tag.objects.filter(account=account, wechat_id__isnull=False)}
    # A local tag whose create timed out has no id yet but the same name: it is the same tag.
    unsent = {t.name: t for t in Tag.objects.filter(account=account, wechat_id__isnull=True)}
    now = timezone.now()
    renamed, final_names = [], {}
    for wechat_id, row in remote.items():
        name, count = row.name[:30], row.count
        tag = local.get(wechat_id) or unsent.pop(name, None)
        if tag is None:
            tag = Tag(account=account, wechat_id=wechat_id, name=f"~{wechat_id}", follower_count=count)
            result.created += 1
        else:
            result.updated += 1
        tag.wechat_id = wechat_id
        tag.follower_count = count
        # A local rename not sent yet wins over WeChat's name; its sync task will send it.
        local_rename_pending = bool(tag.pk) and tag.sync_status in (SyncStatus.PENDING, SyncStatus.SYNCING) and tag.name != name
        if not local_rename_pending:
            if tag.name != name:
                final_names[wechat_id] = name
                tag.name = f"~{wechat_id}"  # placeholder: two tags may swap names
                renamed.append(tag)
            tag.sync_status, tag.synced_at, tag.last_error = SyncStatus.SYNCED, now, ""
        tag.save()
    for tag in renamed:
        tag.name = final_names[tag.wechat_id]
    Tag.objects.bulk_update(renamed, ["name"])
    return result


def _follower_ids(account: OfficialAccount, openids: list[str]) -> set[int]:
    ids: set[int] = set()
    for chunk in _chunks(openids, _DB_CHUNK):
        ids.update(Follower.objects.filter(account=account, openid__in=chunk).values_list("id", flat=True))
    return ids


def tag_members_pull(*, tag: Tag) -> int:
    """Replace the tag's local members with WeChat's (user/tag/get, 10,000 per page). Returns WeChat's count.

    Pages are applied as they come, so memory holds follower ids, not every openid.
    """
    through = Follower.tags.through
    members: set[int] = set()
    total = 0
    for page in wechat_tags.tag_members_iter(account=tag.account, tag_id=tag.wechat_id):
        total += len(page)
        ids = _follower_ids(tag.account, page)
        members |= ids
        through.objects.bulk_create(
            [through(tag_id=tag.pk, follower_id=pk) for pk in ids], batch_size=_DB_CHUNK, ignore_conflicts=True
        )
    with transaction.atomic():
        stale = set(through.objects.filter(tag_id=tag.pk).values_list("follower_id", flat=True)) - members
        for chunk in _chunks(sorted(stale), _DB_CHUNK):
            through.objects.filter(tag_id=tag.pk, follower_id__in=chunk).delete()
        Tag.objects.filter(pk=tag.pk).update(follower_count=total)
    return total


def tags_pull_all(*, account: OfficialAccount) -> TagsPullResult:
    """Tags, then each tag's members."""
    result = tags_pull(account=account)
    for tag in Tag.objects.filter(account=account, wechat_id__isnull=False):
        if tag.follower_count or tag.followers.exists():
            tag_members_pull(tag=tag)
    return result


def tags_sync_retry(*, tags) -> int:
    """Queue failed or stuck tags again."""
    ids = list(tags.filter(~Q(sync_status=SyncStatus.SYNCED)).values_list("pk", flat=True))
    Tag.objects.filter(pk__in=ids).update(sync_status=SyncStatus.PENDING)
    for pk in ids:
        _tag_sync_enqueue(pk)
    return len(ids)

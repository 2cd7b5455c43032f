"""Changes to followers on WeChat's side (tag, untag, blacklist, remark): one FollowerOperation per call, sent by a task."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

import jobs
from accounts.models import OfficialAccount
from followers.models import Follower, FollowerOperation, Tag
from wechat.api import tags as wechat_tags
from wechat.api import users as wechat_users
from wechat.errors import WeChatError
from wechat.models import SyncStatus

from .tags import _DB_CHUNK, _chunks, _record_failure, tag_reserved_check

logger = logging.getLogger(__name__)

TAGGING_BATCH = wechat_tags.TAG_MEMBERS_BATCH  # 50 openids per tagging or untagging call
BLACKLIST_BATCH = wechat_tags.BLACKLIST_BATCH  # 20 per blacklisting call
MAX_REMARK_CHARS = wechat_users.REMARK_MAX_CHARS  # "less than 30 characters"


def blacklist_pull(*, account: OfficialAccount) -> int:
    """Mark exactly WeChat's blacklisted openids as blacklisted (tags/members/getblacklist). Returns their number."""
    remote = {o for page in wechat_tags.blacklist_iter(account=account) for o in page}
    with transaction.atomic():
        current = set(Follower.objects.filter(account=account, blacklisted=True).values_list("openid", flat=True))
        for chunk in _chunks(sorted(current - remote), _DB_CHUNK):
            Follower.objects.filter(account=account, openid__in=chunk).update(blacklisted=False)
        for chunk in _chunks(sorted(remote - current), _DB_CHUNK):
            Follower.objects.filter(account=account, openid__in=chunk).update(blacklisted=True)
    return len(remote)


# Changes to followers on WeChat's side: one FollowerOperation per call, sent by a task.


@dataclass
class OperationsQueued:
    operations: int
    openids: int
    skipped: int = 0


def _single_account(followers) -> OfficialAccount:
    account_ids = set(followers.order_by().values_list("account_id", flat=True).distinct()[:2])
    if len(account_ids) != 1:
        raise ValidationError(_("Select followers of one official account at a time."), code="accounts")
    return OfficialAccount.objects.get(pk=account_ids.pop())


def _operations_queue(*, account, kind, openids, batch, tag=None, user=None) -> OperationsQueued:

    rows = FollowerOperation.objects.bulk_create(
        [
            FollowerOperation(account=account, kind=kind, tag=tag, openids=chunk, created_by=user)
            for chunk in _chunks(openids, batch)
        ]
    )
    ids = [row.pk for row in rows]
    transaction.on_commit(lambda: [jobs.task("accounts.tasks.follower_operation_run").delay(pk) for pk in ids])
    return OperationsQueued(operations=len(ids), openids=len(openids))


def _tag_for_members_check(tag: Tag) -> None:
    tag_reserved_check(tag=tag)
    if tag.wechat_id is None:
        raise ValidationError(
            _("The tag “%(name)s” is not on WeChat yet (sync pending or failed); sync it first.") % {"name": tag.name},
            code="unsynced",
        )


@transaction.atomic
def followers_tag_add(*, tag: Tag, followers, user=None) -> OperationsQueued:
    """Tag followers on WeChat in calls of 50. Unsubscribed followers are skipped (WeChat would refuse with 40003)."""
    _tag_for_members_check(tag)
    if _single_account(followers).pk != tag.account_id:
        raise ValidationError(_("The tag belongs to another official account."), code="account")
    full = (
        followers.exclude(tags=tag)
        .annotate(tag_count=Count("tags"))
        .filter(tag_count__gte=Tag.MAX_PER_FOLLOWER)
        .values_list("openid", flat=True)
    )
    full = list(full[:6])
    if full:
        raise ValidationError(
            _("These followers already have %(max)d tags, WeChat's limit (45059): %(openids)s. Nothing was changed.")
            % {"max": Tag.MAX_PER_FOLLOWER, "openids": ", ".join(full[:5]) + (" …" if len(full) > 5 else "")},
            code="too_many_tags",
        )
    openids = list(followers.filter(subscribed=True).order_by("id").values_list("openid", flat=True))
    skipped = followers.filter(subscribed=False).count()
    queued = _operations_queue(
        account=tag.account, kind=FollowerOperation.Kind.TAG, openids=openids, batch=TAGGING_BATCH, tag=tag, user=user
    )
    queued.skipped = skipped
    return queued


@transaction.atomic
def followers_tag_remove(*, tag: Tag, followers, user=None) -> OperationsQueued:
    _tag_for_members_check(tag)
    if _single_account(followers).pk != tag.account_id:
        raise ValidationError(_("The tag belongs to another official account."), code="account")
    openids = list(followers.filter(subscribed=True).order_by("id").values_list("openid", flat=True))
    queued = _operations_queue(
        account=tag.account, kind=FollowerOperation.Kind.UNTAG, openids=openids, batch=TAGGING_BATCH, tag=tag, user=user
    )
    queued.skipped = followers.filter(subscribed=False).count()
    return queued


@transaction.atomic
def followers_blacklist(*, followers, add: bool = True, user=None) -> OperationsQueued:
    """Blacklist (or un-blacklist) followers on WeChat in calls of 20."""
    account = _single_account(followers)
    openids = list(followers.order_by("id").values_list("openid", flat=True))
    kind = FollowerOperation.Kind.BLACKLIST if add else FollowerOperation.Kind.UNBLACKLIST
    return _operations_queue(account=account, kind=kind, openids=openids, batch=BLACKLIST_BATCH, user=user)


def remark_clean(remark: str) -> str:
    remark = (remark or "").strip()
    if len(remark) > MAX_REMARK_CHARS:
        raise ValidationError(
            _("WeChat takes remarks shorter than 30 characters; this one has %(n)d.") % {"n": len(remark)},
            code="remark_too_long",
        )
    return remark


@transaction.atomic
def follower_remark_set(*, follower: Follower, remark: str, user=None) -> FollowerOperation | None:
    """Save the remark locally and queue user/info/updateremark. Returns the queued change, or None if unchanged."""
    remark = remark_clean(remark)
    stored = Follower.objects.select_for_update().get(pk=follower.pk)
    if stored.remark == remark:
        return None
    if not stored.subscribed:
        raise ValidationError(
            _("WeChat only keeps remarks for current followers; this user has unfollowed (WeChat error 40003)."),
            code="unsubscribed",
        )
    Follower.objects.filter(pk=follower.pk).update(remark=remark, updated_at=timezone.now())
    follower.remark = remark

    operation = FollowerOperation.objects.create(
        account_id=follower.account_id,
        kind=FollowerOperation.Kind.REMARK,
        openids=[follower.openid],
        remark=remark,
        created_by=user,
    )
    transaction.on_commit(lambda: jobs.task("accounts.tasks.follower_operation_run").delay(operation.pk))
    return operation


def follower_operation_run(*, operation_id: int, last_attempt: bool = True) -> FollowerOperation | None:
    """Make one queued change on WeChat, then locally. Idempotent: only a pending row is claimed."""
    claimed = FollowerOperation.objects.filter(pk=operation_id, sync_status=SyncStatus.PENDING)
    if not claimed.update(sync_status=SyncStatus.SYNCING):
        return None
    operation = FollowerOperation.objects.select_related("account", "tag").get(pk=operation_id)
    account, kind, openids = operation.account, operation.kind, operation.openids
    try:
        if kind == FollowerOperation.Kind.TAG:
            wechat_tags.tag_members_add(account=account, tag_id=operation.tag.wechat_id, openids=openids)
        elif kind == FollowerOperation.Kind.UNTAG:
            wechat_tags.tag_members_remove(account=account, tag_id=operation.tag.wechat_id, openids=openids)
        elif kind == FollowerOperation.Kind.BLACKLIST:
            wechat_tags.blacklist_add(account=account, openids=openids)
        elif kind == FollowerOperation.Kind.UNBLACKLIST:
            wechat_tags.blacklist_remove(account=account, openids=openids)
        elif kind == FollowerOperation.Kind.REMARK:
            wechat_users.user_remark_set(account=account, openid=openids[0], remark=operation.remark)
    except WeChatError as exc:
        _record_failure(FollowerOperation.objects.filter(pk=operation.pk), exc, last_attempt=last_attempt)
        raise
    with transaction.atomic():
        _operation_apply_locally(operation)
        FollowerOperation.objects.filter(pk=operation.pk).update(
            sync_status=SyncStatus.SYNCED, synced_at=timezone.now(), last_error=""
        )
    operation.refresh_from_db()
    return operation


def _operation_apply_locally(operation: FollowerOperation) -> None:
    kind = operation.kind
    followers = Follower.objects.filter(account_id=operation.account_id, openid__in=operation.openids)
    if kind in (FollowerOperation.Kind.TAG, FollowerOperation.Kind.UNTAG):
        through = Follower.tags.through
        tag_id = operation.tag_id
        ids = set(followers.values_list("id", flat=True))
        members = through.objects.filter(tag_id=tag_id, follower_id__in=ids)
        if kind == FollowerOperation.Kind.TAG:
            new = ids - set(members.values_list("follower_id", flat=True))
            through.objects.bulk_create([through(tag_id=tag_id, follower_id=pk) for pk in new], ignore_conflicts=True)
            Tag.objects.filter(pk=tag_id).update(follower_count=F("follower_count") + len(new))
        else:
            removed = members.delete()[0]
            Tag.objects.filter(pk=tag_id).update(follower_count=Greatest(F("follower_count") - removed, 0))
    elif kind in (FollowerOperation.Kind.BLACKLIST, FollowerOperation.Kind.UNBLACKLIST):
        followers.update(blacklisted=kind == FollowerOperation.Kind.BLACKLIST)


def follower_operations_retry(*, operations) -> int:
    """Queue failed changes again."""

    ids = list(operations.filter(sync_status=SyncStatus.FAILED).values_list("pk", flat=True))
    FollowerOperation.objects.filter(pk__in=ids).update(sync_status=SyncStatus.PENDING)
    transaction.on_commit(lambda: [jobs.task("accounts.tasks.follower_operation_run").delay(pk) for pk in ids])
    return len(ids)

"""Comments (留言) on published articles: open or close them, pull new ones, elect, reply, delete.

Every call names the article by its publish's msg_data_id and index from 0 (our ``index`` is from 1). A failure is
kept on the row (sync state + WeChat's error) and raised for the operator to see.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from wechat.api import comments as comments_api
from wechat.errors import WeChatError
from wechat.models import SyncStatus

from ..models import ArticleComment, PublishedArticle

logger = logging.getLogger(__name__)


def _target(article: PublishedArticle) -> dict:
    if not article.msg_data_id:
        raise ValidationError(
            _("WeChat names comments by the publish's msg_data_id, which this article (pulled from WeChat) does not have.")
        )
    return {"account": article.account, "msg_data_id": article.msg_data_id, "index": article.index - 1}


def _failed(row, exc: WeChatError) -> None:
    type(row).objects.filter(pk=row.pk).update(sync_status=SyncStatus.FAILED, last_error=exc.display[:255])
    logger.warning("comments.call_failed", extra={"model": type(row).__name__, "id": row.pk, "errcode": exc.errcode})


def comments_switch(*, article: PublishedArticle, open: bool) -> None:
    """Open or close comments on a published article."""
    target = _target(article)
    try:
        (comments_api.comments_open if open else comments_api.comments_close)(**target)
    except WeChatError as exc:
        _failed(article, exc)
        raise
    PublishedArticle.objects.filter(pk=article.pk).update(
        comments_open=open, sync_status=SyncStatus.SYNCED, synced_at=timezone.now(), last_error=""
    )


def comments_pull(*, article: PublishedArticle) -> int:
    """Upsert the article's comments; a comment seen for the first time is new (the inbox). Returns how many are new."""
    target = _target(article)
    try:
        remote = list(comments_api.comments_iter(**target))
    except WeChatError as exc:
        _failed(article, exc)
        raise
    known = {c.user_comment_id: c for c in ArticleComment.objects.filter(article=article)}
    new, changed = [], []
    now = timezone.now()
    seen = set()
    for r in remote:
        seen.add(r.user_comment_id)
        row = known.get(r.user_comment_id)
        fields = {
            "openid": r.openid,
            "content": r.content,
            "commented_at": r.created_at,
            "elected": r.elected,
            "reply": r.reply_content,
            "replied_at": r.reply_created_at,
            "is_deleted": False,
            "sync_status": SyncStatus.SYNCED,
            "synced_at": now,
        }
        if row is None:
            new.append(ArticleComment(article=article, user_comment_id=r.user_comment_id, is_new=True, **fields))
        elif row.sync_status != SyncStatus.SYNCING:
            for name, value in fields.items():
                setattr(row, name, value)
            changed.append(row)
    ArticleComment.objects.bulk_create(new, ignore_conflicts=True)
    ArticleComment.objects.bulk_update(changed, ["openid", "content", "commented_at", "elected", "reply", "replied_at",
                                                 "is_deleted", "sync_status", "synced_at"])  # fmt: skip
    ArticleComment.objects.filter(article=article).exclude(user_comment_id__in=seen).update(is_deleted=True)
    PublishedArticle.objects.filter(pk=article.pk).update(
        comments_pulled_at=now, sync_status=SyncStatus.SYNCED, synced_at=now, last_error=""
    )
    return len(new)


def comments_pull_recent(*, now=None) -> int:
    """Beat: pull the comments of open articles published in the last COMMENTS_PULL_DAYS. Returns how many are new."""
    since = (now or timezone.now()) - timedelta(days=settings.COMMENTS_PULL_DAYS)
    articles = (
        PublishedArticle.objects.select_related("account")
        .filter(comments_open=True, is_deleted=False, published_at__gte=since)
        .exclude(msg_data_id="")
    )
    new = 0
    for article in articles:
        try:
            new += comments_pull(article=article)
        except WeChatError:
            continue  # kept on the article's row; the next beat tries again
    return new


def _comment_call(comment: ArticleComment, fn, **extra) -> None:
    target = _target(comment.article)
    try:
        fn(**target, user_comment_id=comment.user_comment_id, **extra)
    except WeChatError as exc:
        _failed(comment, exc)
        raise


def comment_elect(*, comment: ArticleComment, elected: bool = True) -> None:
    """Mark a comment elected (精选) or take the mark off."""
    _comment_call(comment, comments_api.comment_elect, elected=elected)
    _synced(comment, elected=elected)


def comment_reply(*, comment: ArticleComment, content: str) -> None:
    content = content.strip()
    if not content or len(content) > comments_api.REPLY_MAX_CHARS:
        raise ValidationError(_("A reply is 1 to 600 characters."))
    if comment.reply:
        raise ValidationError(_("This comment has a reply already; delete it first."))
    _comment_call(comment, comments_api.comment_reply, content=content)
    _synced(comment, reply=content, replied_at=timezone.now())


def comment_reply_delete(*, comment: ArticleComment) -> None:
    _comment_call(comment, comments_api.comment_reply_delete)
    _synced(comment, reply="", replied_at=None)


def comment_delete(*, comment: ArticleComment) -> None:
    _comment_call(comment, comments_api.comment_delete)
    _synced(comment, is_deleted=True)


def comments_mark_seen(*, comments) -> int:
    return comments.filter(is_new=True).update(is_new=False)


def _synced(comment: ArticleComment, **fields) -> None:
    ArticleComment.objects.filter(pk=comment.pk).update(
        sync_status=SyncStatus.SYNCED, synced_at=timezone.now(), last_error="", is_new=False, **fields
    )

"""Drafts (草稿箱): check and save articles locally, sync them to WeChat (draft/add, draft/update, draft/delete), pull.

A save is local: the draft is marked pending and ``draft_sync`` (a task) sends it. Before the draft goes out, images in
the content that live on this site (``ArticleImage``) are uploaded with media/uploadimg and their URLs replaced
with WeChat's. What WeChat would refuse and we can know in advance (no cover, script markup, external images,
sizes) is refused by ``draft_articles_check`` before anything is saved or sent.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

import jobs
from wechat.api import drafts as drafts_api
from wechat.errors import WeChatError
from wechat.models import SyncStatus

from .. import html
from ..models import Article, ArticleImage, Draft, Material

logger = logging.getLogger(__name__)

WECHAT_IMAGE_HOSTS = ("mmbiz.qpic.cn", "mmbiz.qlogo.cn")


@dataclass
class ArticleInput:
    """An article as a form or the API gives it, before it is saved."""

    title: str
    content: str
    cover: Material | None
    author: str = ""
    digest: str = ""
    content_source_url: str = ""
    show_cover: bool = False
    need_open_comment: bool = False
    only_fans_can_comment: bool = False


def _local_image_name(src: str) -> str | None:
    """The storage name of an image URL of this site's MEDIA_URL, or None."""
    path = unquote(urlsplit(src).path)
    prefix = "/" + settings.MEDIA_URL.strip("/") + "/"
    return path[len(prefix) :] if path.startswith(prefix) else None


def _image_known(account, src: str) -> bool:
    host = (urlsplit(src).hostname or "").lower()
    if host in WECHAT_IMAGE_HOSTS:
        return True
    images = ArticleImage.objects.filter(account=account)
    name = _local_image_name(src)
    if name is not None and images.filter(file=name).exists():
        return True
    return images.filter(url=src).exclude(url="").exists()


def article_content_check(*, account, content: str) -> list[str]:
    """Problems of one article's HTML that WeChat would refuse or silently strip, as messages for the form."""
    problems = []
    found = html.forbidden_markup(content)
    if found:
        problems.append(
            _("The content contains markup WeChat does not allow: %(found)s. Remove it (no scripts, frames or on* attributes).")
            % {"found": ", ".join(found)}
        )
    cleaned = html.sanitize(content)
    if not html.text_length(cleaned) and not html.image_sources(cleaned):
        problems.append(_("The article has no content."))
    if len(cleaned) >= drafts_api.ARTICLE_CONTENT_MAX_CHARS:
        problems.append(_("The content is %(n)d characters of HTML; WeChat takes fewer than 20,000.") % {"n": len(cleaned)})
    for src in html.image_sources(cleaned):
        if not _image_known(account, src):
            problems.append(
                _("Image %(src)s is neither an article image of this account nor on WeChat: WeChat strips external images. "
                  "Upload it under Article images and use its address.") % {"src": src[:120]}
            )  # fmt: skip
    return problems


def draft_articles_check(*, account, articles: list[ArticleInput]) -> None:
    """Raise ValidationError (keyed by article number) for what WeChat's limits refuse; nothing is saved or sent."""
    errors: dict[str, list[str]] = {}
    if not articles:
        raise ValidationError(_("A draft needs at least one article."))
    if len(articles) > drafts_api.ARTICLES_PER_DRAFT:
        raise ValidationError(_("A draft has at most 8 articles (this one has %(n)d).") % {"n": len(articles)})
    for number, article in enumerate(articles, start=1):
        problems = []
        if not article.title.strip():
            problems.append(_("The title is required."))
        if article.cover is None:
            problems.append(_("Choose a cover: WeChat needs a permanent image material (thumb_media_id) for every article."))
        elif article.cover.account_id != account.pk or article.cover.kind not in ("image", "thumb"):
            problems.append(_("The cover must be an image material of this account."))
        elif not article.cover.usable:
            problems.append(_("The cover material is not on WeChat yet (or was removed there); upload it first."))
        problems += article_content_check(account=account, content=article.content)
        if problems:
            errors[str(number)] = problems
    if errors:
        raise ValidationError(
            [_("Article %(n)s: %(problem)s") % {"n": n, "problem": p} for n, problems in errors.items() for p in problems]
        )


def draft_save(*, account, articles: list[ArticleInput], draft: Draft | None = None, actor=None) -> Draft:
    """Create or replace a draft's articles (checked, sanitized) in one transaction; its sync runs after commit."""
    if draft is not None and draft.published_at is not None:
        raise ValidationError(_("This draft is published: WeChat no longer edits it. Write a new draft instead."))
    draft_articles_check(account=account, articles=articles)
    with transaction.atomic():
        if draft is None:
            draft = Draft.objects.create(account=account, created_by=actor)
        draft.articles.all().delete()
        Article.objects.bulk_create(
            [
                Article(
                    draft=draft,
                    position=position,
                    title=a.title.strip(),
                    author=a.author.strip(),
                    digest=a.digest.strip(),
                    content=html.sanitize(a.content),
                    content_source_url=a.content_source_url,
                    cover=a.cover,
                    thumb_media_id=a.cover.media_id if a.cover else "",
                    show_cover=a.show_cover,
                    need_open_comment=a.need_open_comment,
                    only_fans_can_comment=a.only_fans_can_comment,
                )
                for position, a in enumerate(articles)
            ]
        )
        draft_sync_enqueue(draft=draft)
    return draft


def draft_sync_enqueue(*, draft: Draft) -> None:
    """Mark the draft pending and send it to WeChat after the commit."""
    Draft.objects.filter(pk=draft.pk).exclude(sync_status=SyncStatus.SYNCING).update(
        sync_status=SyncStatus.PENDING, updated_at=timezone.now()
    )
    draft_sync_task = jobs.task("media_assets.tasks.draft_sync")

    draft_id = draft.pk
    transaction.on_commit(lambda: draft_sync_task.delay(draft_id))


def article_image_add(*, account, content: bytes, name: str) -> ArticleImage:
    """Keep an image for article content (once per file per account); it is uploaded to WeChat on first use."""
    digest = hashlib.sha256(content).hexdigest()
    image = ArticleImage.objects.filter(account=account, sha256=digest).first()
    if image is None:
        image = ArticleImage(account=account, sha256=digest)
        image.file.save(name, ContentFile(content), save=False)
        image.save()
    return image


def article_image_upload(*, image: ArticleImage) -> str:
    """WeChat's URL of the image, uploading it with media/uploadimg the first time."""
    if image.url:
        return image.url
    with image.file.open("rb") as f:
        url = drafts_api.article_image_upload(account=image.account, image=f, filename=image.file.name.rsplit("/", 1)[-1])
    ArticleImage.objects.filter(pk=image.pk).update(url=url, uploaded_at=timezone.now())
    image.url = url
    return url


def _content_for_wechat(account, content: str) -> str:
    """The content with this site's article images replaced by their WeChat URLs (uploading them if needed)."""
    replacements = {}
    for src in html.image_sources(content):
        name = _local_image_name(src)
        image = ArticleImage.objects.filter(account=account, file=name).first() if name else None
        if image is not None:
            replacements[src] = article_image_upload(image=image)
    return html.replace_image_sources(content, replacements)


def _payload(article: Article) -> drafts_api.DraftArticle:
    return {
        "title": article.title,
        "author": article.author,
        "digest": article.digest,
        "content": article.content,
        "content_source_url": article.content_source_url,
        "thumb_media_id": article.cover.media_id if article.cover else article.thumb_media_id,
        "show_cover_pic": int(article.show_cover),
        "need_open_comment": int(article.need_open_comment),
        "only_fans_can_comment": int(article.only_fans_can_comment),
    }


def _record_failure(draft: Draft, exc: WeChatError) -> None:
    Draft.objects.filter(pk=draft.pk).update(sync_status=SyncStatus.FAILED, last_error=exc.display[:255])
    logger.warning("draft.sync_failed", extra={"draft_id": draft.pk, "errcode": exc.errcode})


def draft_sync(*, draft_id: int) -> bool:
    """Send a pending draft to WeChat: draft/add the first time, then draft/update per article (a changed article
    count needs a new draft: add, then delete the old one). Returns whether it is synced."""
    if not Draft.objects.filter(pk=draft_id, sync_status__in=(SyncStatus.PENDING, SyncStatus.FAILED)).update(
        sync_status=SyncStatus.SYNCING
    ):
        return False
    draft = Draft.objects.select_related("account").get(pk=draft_id)
    account = draft.account
    articles = list(draft.articles.select_related("cover").order_by("position", "id"))
    try:
        for article in articles:
            content = _content_for_wechat(account, article.content)
            if content != article.content:
                Article.objects.filter(pk=article.pk).update(content=content)
                article.content = content
        payloads = [_payload(a) for a in articles]
        remote_count = None
        if draft.media_id:
            try:
                remote_count = len(drafts_api.draft_get(account=account, media_id=draft.media_id).articles)
            except WeChatError as exc:
                if exc.errcode != 40007:
                    raise
                draft.media_id = ""  # deleted on WeChat meanwhile: saved again as a new draft
        if remote_count == len(payloads):
            for index, payload in enumerate(payloads):
                drafts_api.draft_update(account=account, media_id=draft.media_id, index=index, article=payload)
        else:
            old = draft.media_id
            draft.media_id = drafts_api.draft_add(account=account, articles=payloads)
            Draft.objects.filter(pk=draft.pk).update(media_id=draft.media_id)
            if old:
                drafts_api.draft_delete(account=account, media_id=old)
        remote = drafts_api.draft_get(account=account, media_id=draft.media_id)
    except WeChatError as exc:
        _record_failure(draft, exc)
        raise
    for article, pulled in zip(articles, remote.articles, strict=False):
        Article.objects.filter(pk=article.pk).update(url=pulled.url)
    Draft.objects.filter(pk=draft.pk).update(
        sync_status=SyncStatus.SYNCED,
        synced_at=timezone.now(),
        last_error="",
        wechat_update_time=_timestamp(remote.update_time),
    )
    logger.info("draft.synced", extra={"draft_id": draft.pk, "articles": len(articles)})
    return True


def draft_delete(*, draft: Draft) -> None:
    """Delete the draft on WeChat (when it is still in the box there) and here."""
    if draft.media_id and draft.published_at is None and draft.removed_on_wechat_at is None:
        try:
            drafts_api.draft_delete(account=draft.account, media_id=draft.media_id)
        except WeChatError as exc:
            if exc.errcode != 40007:  # already gone on WeChat
                _record_failure(draft, exc)
                raise
    draft.delete()


def _timestamp(seconds: int) -> datetime | None:
    return datetime.fromtimestamp(seconds, tz=UTC) if seconds else None


def drafts_pull(*, account) -> int:
    """Upsert every draft of WeChat's draft box (articles replaced), except drafts edited here and not yet sent; drafts
    gone from the box are marked removed. Returns how many drafts WeChat listed."""
    covers = {m.media_id: m for m in Material.objects.filter(account=account).exclude(media_id="")}
    seen = []
    edited_here = set(
        Draft.objects.filter(account=account)
        .exclude(sync_status=SyncStatus.SYNCED)
        .exclude(media_id="")
        .values_list("media_id", flat=True)
    )
    for remote in drafts_api.drafts_iter(account=account):
        if remote.media_id in edited_here:  # an edit not yet sent wins over WeChat's copy; its sync sends it
            seen.append(remote.media_id)
            continue
        with transaction.atomic():
            draft, _created = Draft.objects.update_or_create(
                account=account,
                media_id=remote.media_id,
                defaults={
                    "sync_status": SyncStatus.SYNCED,
                    "synced_at": timezone.now(),
                    "last_error": "",
                    "wechat_update_time": _timestamp(remote.update_time),
                    "removed_on_wechat_at": None,
                },
            )
            draft.articles.all().delete()
            Article.objects.bulk_create(
                [
                    Article(
                        draft=draft,
                        position=position,
                        title=a.title[:64],
                        author=a.author[:16],
                        digest=a.digest[:120],
                        content=html.sanitize(a.content),
                        content_source_url=a.content_source_url[:1024],
                        cover=covers.get(a.thumb_media_id),
                        thumb_media_id=a.thumb_media_id,
                        show_cover=a.show_cover_pic,
                        need_open_comment=a.need_open_comment,
                        only_fans_can_comment=a.only_fans_can_comment,
                        url=a.url[:1024],
                    )
                    for position, a in enumerate(remote.articles)
                ]
            )
        seen.append(remote.media_id)
    Draft.objects.filter(account=account, published_at__isnull=True, removed_on_wechat_at__isnull=True).exclude(
        media_id=""
    ).exclude(media_id__in=seen).update(removed_on_wechat_at=timezone.now())
    return len(seen)

"""Reads of media_assets: what pickers offer and what a typed media_id refers to (the library); drafts and published
articles other layers may name (mass sends, auto-replies, menus) and the comments inbox (articles)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import ArticleComment, Draft, Material, MaterialPullJob, PublishedArticle, TemporaryMedia


def materials_usable(*, account, kinds: Iterable[str] | None = None) -> QuerySet[Material]:
    """Materials on WeChat (a media_id, not removed there), newest first."""
    rows = Material.objects.filter(account=account, removed_on_wechat_at__isnull=True).exclude(media_id="")
    return rows.filter(kind__in=list(kinds)) if kinds is not None else rows


def temporary_media_usable(*, account, kinds: Iterable[str] | None = None) -> QuerySet[TemporaryMedia]:
    """Temporary media that can be sent: still valid on WeChat, or uploaded by us with a file to upload again."""
    now = timezone.now()
    rows = TemporaryMedia.objects.filter(account=account).filter(
        Q(expires_at__gt=now) & ~Q(media_id="") | Q(origin=TemporaryMedia.Origin.UPLOADED) & ~Q(file="")
    )
    return rows.filter(kind__in=list(kinds)) if kinds is not None else rows


def library_entry(*, account, media_id: str, kinds: Iterable[str] | None = None) -> Material | TemporaryMedia | None:
    """The library row a media_id names for this account (a material first), or None when the library lacks it."""
    if not media_id:
        return None
    material = materials_usable(account=account, kinds=kinds).filter(media_id=media_id).first()
    if material is not None:
        return material
    return temporary_media_usable(account=account, kinds=kinds).filter(media_id=media_id).first()


def material_pull_active(*, account) -> MaterialPullJob | None:
    return MaterialPullJob.objects.filter(account=account, status__in=MaterialPullJob.ACTIVE).first()


def material_pull_latest(*, account) -> MaterialPullJob | None:
    return MaterialPullJob.objects.filter(account=account).order_by("-created_at", "-id").first()


def published_articles_usable(*, accounts) -> QuerySet[PublishedArticle]:
    """Published, not deleted articles of these accounts, newest first (for replies and menus)."""
    return (
        PublishedArticle.objects.filter(account__in=accounts, is_deleted=False)
        .exclude(url="")
        .order_by("-published_at", "article_id", "index")
    )


def mpnews_media_ids(*, account) -> QuerySet[Draft]:
    """Drafts whose media_id a mass mpnews send may name (API.md §8: the draft's media_id), published ones first."""
    return (
        Draft.objects.filter(account=account, removed_on_wechat_at__isnull=True)
        .exclude(media_id="")
        .order_by("published_at", "-updated_at")
    )


def mpnews_media_id_known(*, account, media_id: str) -> bool:
    return mpnews_media_ids(account=account).filter(media_id=media_id).exists()


def news_article_fields(*, article: PublishedArticle) -> dict:
    """A published article as one item of a passive-reply/customer-service ``news`` message."""
    return {"title": article.title, "description": article.digest, "url": article.url, "picurl": article.cover_url}


def comments_inbox(*, accounts) -> QuerySet[ArticleComment]:
    """New comments across the articles of these accounts, newest first."""
    return (
        ArticleComment.objects.select_related("article")
        .filter(article__account__in=accounts, is_new=True, is_deleted=False)
        .order_by("-commented_at", "-id")
    )


def material_display_url(material: Material) -> str:
    """Where a browser can show the material: its local file when kept here, else WeChat's URL."""
    return material.file.url if material.file else material.url

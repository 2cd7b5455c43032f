"""Reads of articles: what other layers may pick (mass sends, auto-replies, menus) and the comments inbox."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import ArticleComment, Draft, Material, PublishedArticle


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

"""Article images, the draft box (草稿箱) and publishing (发布) (API.md §5; wechatpy 1.8.18 has neither).

``material/add_news`` is gone (45106): an article is a draft (``draft/*``) published with ``freepublish/*``.
The result of a publish arrives later as a PUBLISHJOBFINISH event; ``publish_status`` polls for it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, TypedDict

from wechat import gateway
from wechat.errors import WeChatError

from .endpoints import Endpoint

# WeChat's limits that are known before a call (API.md §5).
ARTICLE_CONTENT_MAX_CHARS = 20_000
ARTICLE_CONTENT_MAX_BYTES = 1024 * 1024
ARTICLES_PER_DRAFT = 8
UPLOADIMG_MAX_BYTES = 1024 * 1024  # "< 1 MB"
UPLOADIMG_EXTENSIONS = (".jpg", ".jpeg", ".png")
PAGE_MAX = 20

INVALID_MEDIA_ID = 40007  # a missing or unknown thumb_media_id


class Status:
    """``publish_status`` of freepublish/get and PUBLISHJOBFINISH (API.md §2)."""

    SUCCESS = 0
    PUBLISHING = 1
    ORIGINAL_FAIL = 2
    FAIL = 3
    AUDIT_FAIL = 4
    DELETED = 5
    BANNED = 6


class DraftArticle(TypedDict, total=False):
    """One article as draft/add and draft/update take it (the keys of draft_add_request.json)."""

    title: str
    author: str
    digest: str
    content: str
    content_source_url: str
    thumb_media_id: str
    show_cover_pic: int
    need_open_comment: int
    only_fans_can_comment: int


@dataclass(frozen=True)
class RemoteArticle:
    """An article of a draft or of a published item, as draft/get, draft/batchget and freepublish/* return it."""

    title: str
    author: str = ""
    digest: str = ""
    content: str = ""
    content_source_url: str = ""
    thumb_media_id: str = ""
    thumb_url: str = ""
    show_cover_pic: bool = False
    need_open_comment: bool = False
    only_fans_can_comment: bool = False
    url: str = ""
    is_deleted: bool = False


@dataclass(frozen=True)
class RemoteDraft:
    media_id: str
    articles: tuple[RemoteArticle, ...]
    update_time: int = 0


@dataclass(frozen=True)
class Submitted:
    publish_id: str
    msg_data_id: str = ""


@dataclass(frozen=True)
class PublishResult:
    """freepublish/get, or the PublishEventInfo of PUBLISHJOBFINISH: the same fields."""

    publish_id: str
    status: int
    article_id: str = ""
    article_urls: dict[int, str] = field(default_factory=dict)  # idx (1-based) → URL
    fail_idx: tuple[int, ...] = ()

    @property
    def finished(self) -> bool:
        return self.status != Status.PUBLISHING


@dataclass(frozen=True)
class PublishedItem:
    article_id: str
    articles: tuple[RemoteArticle, ...]
    update_time: int = 0


def _flag(value) -> bool:
    return str(value).strip().lower() in ("1", "true")


def _article(item: dict) -> RemoteArticle:
    return RemoteArticle(
        title=str(item.get("title") or ""),
        author=str(item.get("author") or ""),
        digest=str(item.get("digest") or ""),
        content=str(item.get("content") or ""),
        content_source_url=str(item.get("content_source_url") or ""),
        thumb_media_id=str(item.get("thumb_media_id") or ""),
        thumb_url=str(item.get("thumb_url") or ""),
        show_cover_pic=_flag(item.get("show_cover_pic", 0)),
        need_open_comment=_flag(item.get("need_open_comment", 0)),
        only_fans_can_comment=_flag(item.get("only_fans_can_comment", 0)),
        url=str(item.get("url") or ""),
        is_deleted=_flag(item.get("is_deleted", False)),
    )


def _articles(content: dict | None) -> tuple[RemoteArticle, ...]:
    return tuple(_article(item) for item in (content or {}).get("news_item") or [])


def _as_list(value) -> list:
    """XML gives one repeated element as a scalar and several as a list; JSON always gives a list."""
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def publish_result_parse(data: dict) -> PublishResult:
    """A freepublish/get answer or an event's PublishEventInfo (numbers may arrive as strings from XML)."""
    detail = data.get("article_detail") or {}
    urls = {}
    for item in _as_list(detail.get("item") if isinstance(detail, dict) else None):
        if isinstance(item, dict) and str(item.get("idx", "")).strip().isdigit():
            urls[int(item["idx"])] = str(item.get("article_url") or "")
    fail_idx = tuple(int(i) for i in _as_list(data.get("fail_idx")) if str(i).strip().isdigit())
    return PublishResult(
        publish_id=str(data.get("publish_id") or ""),
        status=int(data.get("publish_status") or 0),
        article_id=str(data.get("article_id") or ""),
        article_urls=urls,
        fail_idx=fail_idx,
    )


def _checked_articles(articles: Sequence[DraftArticle], endpoint: Endpoint) -> list[DraftArticle]:
    """The articles, or WeChat's refusal without a call where its limits are known in advance."""
    if not articles:
        raise WeChatError(47001, "data format error hint: [articles]", endpoint=endpoint.path)
    if len(articles) > ARTICLES_PER_DRAFT:
        raise WeChatError(45008, f"a draft has at most {ARTICLES_PER_DRAFT} articles", endpoint=endpoint.path)
    for article in articles:
        _checked_article(article, endpoint)
    return list(articles)


def _checked_article(article: DraftArticle, endpoint: Endpoint) -> DraftArticle:
    content = article.get("content") or ""
    if len(content) >= ARTICLE_CONTENT_MAX_CHARS or len(content.encode("utf-8")) >= ARTICLE_CONTENT_MAX_BYTES:
        raise WeChatError(45002, "content size out of limit", endpoint=endpoint.path)
    if not article.get("thumb_media_id"):
        raise WeChatError(INVALID_MEDIA_ID, "invalid media_id hint: [thumb_media_id]", endpoint=endpoint.path)
    return article


def article_image_upload(*, account, image: IO[bytes], filename: str = "image.jpg") -> str:
    """``media/uploadimg``: an image for use inside article HTML (JPG/PNG, under 1 MB); returns its URL.
    Another format (40005) or size (40009) is refused without a call."""
    endpoint = Endpoint.MEDIA_UPLOADIMG
    if not filename.lower().endswith(UPLOADIMG_EXTENSIONS):
        raise WeChatError(40005, f"invalid file type: {', '.join(UPLOADIMG_EXTENSIONS)} only", endpoint=endpoint.path)
    start = image.tell()
    size = image.seek(0, 2) - start
    image.seek(start)
    if size >= UPLOADIMG_MAX_BYTES:
        raise WeChatError(40009, f"invalid image size: {size} bytes, under {UPLOADIMG_MAX_BYTES} only", endpoint=endpoint.path)
    return str(gateway.call(account, endpoint, files={"media": (filename, image)})["url"])


def draft_add(*, account, articles: Sequence[DraftArticle]) -> str:
    """A new draft; returns its media_id."""
    body = {"articles": _checked_articles(articles, Endpoint.DRAFT_ADD)}
    return str(gateway.call(account, Endpoint.DRAFT_ADD, json=body)["media_id"])


def draft_update(*, account, media_id: str, index: int, article: DraftArticle) -> None:
    """Replace one article (``index`` from 0) of a draft; ``articles`` is a single object here."""
    body = {"media_id": media_id, "index": int(index), "articles": _checked_article(article, Endpoint.DRAFT_UPDATE)}
    gateway.call(account, Endpoint.DRAFT_UPDATE, json=body)


def draft_get(*, account, media_id: str) -> RemoteDraft:
    result = gateway.call(account, Endpoint.DRAFT_GET, json={"media_id": media_id})
    return RemoteDraft(media_id=media_id, articles=_articles(result), update_time=int(result.get("update_time") or 0))


def draft_delete(*, account, media_id: str) -> None:
    gateway.call(account, Endpoint.DRAFT_DELETE, json={"media_id": media_id})


def draft_count(*, account) -> int:
    return int(gateway.call(account, Endpoint.DRAFT_COUNT).get("total_count") or 0)


def drafts_iter(*, account, no_content: bool = False, page_size: int = PAGE_MAX) -> Iterator[RemoteDraft]:
    """Every draft in the box, a page of up to 20 at a time."""
    offset = 0
    while True:
        body = {"offset": offset, "count": min(page_size, PAGE_MAX), "no_content": int(no_content)}
        page = gateway.call(account, Endpoint.DRAFT_BATCHGET, json=body)
        items = page.get("item") or []
        for item in items:
            yield RemoteDraft(
                media_id=str(item.get("media_id") or ""),
                articles=_articles(item.get("content")),
                update_time=int(item.get("update_time") or 0),
            )
        offset += len(items)
        if not items or offset >= int(page.get("total_count") or 0):
            return


def publish_submit(*, account, media_id: str) -> Submitted:
    """Ask WeChat to publish a draft. Acceptance only: the outcome comes as PUBLISHJOBFINISH (or ``publish_status``)."""
    result = gateway.call(account, Endpoint.FREEPUBLISH_SUBMIT, json={"media_id": media_id})
    return Submitted(publish_id=str(result.get("publish_id") or ""), msg_data_id=str(result.get("msg_data_id") or ""))


def publish_status(*, account, publish_id: str) -> PublishResult:
    return publish_result_parse(gateway.call(account, Endpoint.FREEPUBLISH_GET, json={"publish_id": publish_id}))


def published_delete(*, account, article_id: str, index: int = 0) -> None:
    """Delete a published article (``index`` from 1), or all articles of the item with 0. Irreversible."""
    body: dict = {"article_id": article_id}
    if index:
        body["index"] = int(index)
    gateway.call(account, Endpoint.FREEPUBLISH_DELETE, json=body)


def published_get(*, account, article_id: str) -> tuple[RemoteArticle, ...]:
    """The articles of a published item, with their URLs; 53600 for an unknown article_id."""
    return _articles(gateway.call(account, Endpoint.FREEPUBLISH_GETARTICLE, json={"article_id": article_id}))


def published_iter(*, account, no_content: bool = False, page_size: int = PAGE_MAX) -> Iterator[PublishedItem]:
    """Every published item, a page of up to 20 at a time."""
    offset = 0
    while True:
        body = {"offset": offset, "count": min(page_size, PAGE_MAX), "no_content": int(no_content)}
        page = gateway.call(account, Endpoint.FREEPUBLISH_BATCHGET, json=body)
        items = page.get("item") or []
        for item in items:
            yield PublishedItem(
                article_id=str(item.get("article_id") or ""),
                articles=_articles(item.get("content")),
                update_time=int(item.get("update_time") or 0),
            )
        offset += len(items)
        if not items or offset >= int(page.get("total_count") or 0):
            return

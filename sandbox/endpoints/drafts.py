"""Article images, the draft box and publishing (API.md §5), with the PUBLISHJOBFINISH push.

What the sandbox enforces, as WeChat does:
- media/uploadimg takes JPG/PNG under 1 MB (40005 / 40009) and answers a URL the sandbox serves back;
- a draft has 1 to 8 articles (47001 / 45008); each needs a title (≤ 64 characters, 45003), an author of at most
  16 characters (45110), a digest of at most 120 (45004), content under 20,000 characters (45002; empty is 44003)
  and a thumb_media_id that is a permanent image or thumb material of the app (40007); scripts and images not
  uploaded through media/uploadimg are stripped from the content, as WeChat strips them;
- draft/update replaces one article by index (from 0; out of range is 40007 hint index);
- freepublish/submit takes a draft in the box (40007 otherwise); an article whose content has no text fails
  WeChat's publish check (53503). The publish answers at once with a publish_id; PUBLISHJOBFINISH follows after
  ``SANDBOX_PUBLISH_JOB_FINISH_DELAY`` seconds. Success takes the draft out of the box (its media_id stays valid
  for mass sends) and gives the item an article_id and URLs;
- a fault with api ``PUBLISHJOBFINISH`` (kind errcode) ends the next job with that publish_status instead:
  2 (original-check failure) and 4 (audit rejected) fail the last article (fail_idx), 3 fails them all;
- freepublish/getarticle and freepublish/delete of an unknown article_id are 53600.
"""

from __future__ import annotations

import re
import secrets
import time

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.http import HttpResponse

from ..core import Call, SandboxError, app_now, endpoint
from ..models import SandboxApp, SandboxArticleImage, SandboxDraft, SandboxFault, SandboxMaterial, SandboxPublish

MAX_ARTICLES = 8
TITLE_MAX = 64
AUTHOR_MAX = 16
DIGEST_MAX = 120
CONTENT_MAX = 20_000
UPLOADIMG_MAX_BYTES = 1024 * 1024
PAGE_MAX = 20
IMAGE_PREFIX = "/sandbox/mmbiz/"  # media/uploadimg URLs, served by the site's /sandbox/ pages
JOB_FINISH_FAULT = "PUBLISHJOBFINISH"
PUBLISH_ASSISTANT_OPENID = "oPublishAssistant00000000000"
ARTICLE_FIELDS = (
    "title",
    "author",
    "digest",
    "content",
    "content_source_url",
    "thumb_media_id",
    "show_cover_pic",
    "need_open_comment",
    "only_fans_can_comment",
)

_SCRIPT_RE = re.compile(r"<script\b.*?(</script\s*>|$)", re.IGNORECASE | re.DOTALL)
_IMG_RE = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_SRC_RE = re.compile(r"""\bsrc\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
_TAG_RE = re.compile(r"<[^>]+>")


def _now() -> int:
    return int(time.time())


def _magic_type(content: bytes) -> str | None:
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


@endpoint("cgi-bin/media/uploadimg", methods=("POST",))
def uploadimg(call: Call) -> dict:
    content = call.files.get("media")
    if content is None:
        raise SandboxError(41005, "media data missing")
    content_type = _magic_type(content)
    if content_type is None:
        raise SandboxError(40005, "invalid file type")
    if len(content) >= UPLOADIMG_MAX_BYTES:
        raise SandboxError(40009, "invalid image size")
    image = SandboxArticleImage.objects.create(
        app=call.app, key=secrets.token_urlsafe(24), content_type=content_type, content=content
    )
    return {"url": image_url(image.key)}


def image_url(key: str) -> str:
    """Where the site serves the image (``sandbox.urls``), standing in for WeChat's mmbiz.qpic.cn."""
    return f"{IMAGE_PREFIX}{key}"


def image_response(key: str) -> HttpResponse:
    """The bytes behind a media/uploadimg URL (the sandbox's stand-in for mmbiz.qpic.cn)."""
    image = SandboxArticleImage.objects.filter(key=key).first()
    if image is None:
        return HttpResponse(status=404)
    return HttpResponse(bytes(image.content), content_type=image.content_type)


def _own_image(app: SandboxApp, src: str) -> bool:
    key = src.split(IMAGE_PREFIX, 1)[1] if IMAGE_PREFIX in src else ""
    return bool(key) and SandboxArticleImage.objects.filter(app=app, key=key).exists()


def _clean_content(app: SandboxApp, html: str) -> str:
    html = _SCRIPT_RE.sub("", html)

    def keep_own(match: re.Match) -> str:
        src = _SRC_RE.search(match.group(0))
        return match.group(0) if src and _own_image(app, src.group(1)) else ""

    return _IMG_RE.sub(keep_own, html)


def permanent_cover(app: SandboxApp, media_id: str) -> dict | None:
    """The permanent image or thumb material with this media_id, as {media_id, url}; None when there is none."""
    row = SandboxMaterial.objects.filter(app=app, media_id=media_id, type__in=("image", "thumb")).first()
    return None if row is None else {"media_id": row.media_id, "url": row.url}


def _flag(value) -> int:
    return 1 if str(value).strip().lower() in ("1", "true") else 0


def _article(app: SandboxApp, data) -> dict:
    if not isinstance(data, dict):
        raise SandboxError(47001)
    title = str(data.get("title") or "")
    if not title.strip():
        raise SandboxError(47001, "data format error hint: [title]")
    if len(title) > TITLE_MAX:
        raise SandboxError(45003, "title size out of limit")
    if len(str(data.get("author") or "")) > AUTHOR_MAX:
        raise SandboxError(45110, "author size out of limit")
    if len(str(data.get("digest") or "")) > DIGEST_MAX:
        raise SandboxError(45004, "description size out of limit")
    content = str(data.get("content") or "")
    if not content.strip():
        raise SandboxError(44003, "empty content")
    if len(content) >= CONTENT_MAX:
        raise SandboxError(45002, "content size out of limit")
    cover = permanent_cover(app, str(data.get("thumb_media_id") or ""))
    if cover is None:
        raise SandboxError(40007, "invalid media_id hint: [thumb_media_id]")
    article = {name: data.get(name, "") for name in ARTICLE_FIELDS}
    for name in ("show_cover_pic", "need_open_comment", "only_fans_can_comment"):
        article[name] = _flag(data.get(name, 0))
    article["content"] = _clean_content(app, content)
    article["thumb_url"] = cover["url"]
    return article


def _articles(app: SandboxApp, data) -> list[dict]:
    if not isinstance(data, list) or not data:
        raise SandboxError(47001, "data format error hint: [articles]")
    if len(data) > MAX_ARTICLES:
        raise SandboxError(45008, "article size out of limit")
    return [_article(app, item) for item in data]


def _draft(call: Call) -> SandboxDraft:
    draft = SandboxDraft.objects.filter(
        app=call.app, media_id=str(call.json.get("media_id") or ""), state=SandboxDraft.State.DRAFT
    ).first()
    if draft is None:
        raise SandboxError(40007, "invalid media_id")
    return draft


def _with_urls(media_id: str, articles: list[dict]) -> list[dict]:
    return [{**a, "url": f"https://mp.weixin.qq.com/s/sandbox-draft-{media_id}-{i}"} for i, a in enumerate(articles, 1)]


@endpoint("cgi-bin/draft/add", methods=("POST",))
def draft_add(call: Call) -> dict:
    articles = _articles(call.app, call.json.get("articles"))
    draft = SandboxDraft.objects.create(
        app=call.app, media_id=secrets.token_urlsafe(48)[:64], articles=articles, update_time=_now()
    )
    return {"media_id": draft.media_id}


@endpoint("cgi-bin/draft/update", methods=("POST",))
def draft_update(call: Call) -> dict:
    draft = _draft(call)
    try:
        index = int(call.json.get("index"))
    except (TypeError, ValueError) as exc:
        raise SandboxError(47001, "data format error hint: [index]") from exc
    if not 0 <= index < len(draft.articles):
        raise SandboxError(40007, "invalid index hint: [index]")
    articles = list(draft.articles)
    articles[index] = _article(call.app, call.json.get("articles"))
    SandboxDraft.objects.filter(pk=draft.pk).update(articles=articles, update_time=_now())
    return {"errcode": 0, "errmsg": "ok"}


@endpoint("cgi-bin/draft/get", methods=("POST",))
def draft_get(call: Call) -> dict:
    draft = _draft(call)
    return {"news_item": _with_urls(draft.media_id, draft.articles), "update_time": draft.update_time}


@endpoint("cgi-bin/draft/delete", methods=("POST",))
def draft_delete(call: Call) -> dict:
    _draft(call).delete()
    return {"errcode": 0, "errmsg": "ok"}


@endpoint("cgi-bin/draft/count", methods=("GET",))
def draft_count(call: Call) -> dict:
    return {"total_count": SandboxDraft.objects.filter(app=call.app, state=SandboxDraft.State.DRAFT).count()}


def _page(call: Call) -> tuple[int, int, bool]:
    try:
        offset, count = int(call.json.get("offset", 0)), int(call.json.get("count", 0))
    except (TypeError, ValueError) as exc:
        raise SandboxError(47001) from exc
    if offset < 0 or not 1 <= count <= PAGE_MAX:
        raise SandboxError(40007 if count else 47001, "invalid count hint: [count]")
    return offset, count, bool(_flag(call.json.get("no_content", 0)))


def _listed(articles: list[dict], no_content: bool) -> list[dict]:
    return [{k: v for k, v in a.items() if not (no_content and k == "content")} for a in articles]


@endpoint("cgi-bin/draft/batchget", methods=("POST",))
def draft_batchget(call: Call) -> dict:
    offset, count, no_content = _page(call)
    drafts = SandboxDraft.objects.filter(app=call.app, state=SandboxDraft.State.DRAFT)
    items = [
        {
            "media_id": d.media_id,
            "content": {"news_item": _listed(_with_urls(d.media_id, d.articles), no_content)},
            "update_time": d.update_time,
        }
        for d in drafts[offset : offset + count]
    ]
    return {"total_count": drafts.count(), "item_count": len(items), "item": items}


def _has_text(html: str) -> bool:
    return bool(_TAG_RE.sub("", html).replace("&nbsp;", "").strip()) or "<img" in html.lower()


@endpoint("cgi-bin/freepublish/submit", methods=("POST",))
def freepublish_submit(call: Call) -> dict:
    draft = _draft(call)
    if not all(_has_text(a.get("content", "")) for a in draft.articles):
        raise SandboxError(53503, "this draft can not be published: the article failed the publish check")
    job = SandboxPublish.objects.create(app=call.app, media_id=draft.media_id, articles=draft.articles, created_at=call.now())
    job_id = job.pk
    if settings.SANDBOX_SERVER:
        from .. import server

        server.push_later(settings.SANDBOX_PUBLISH_JOB_FINISH_DELAY, publish_job_finish, job_id)
    else:
        transaction.on_commit(
            lambda: publish_job_finish.apply_async((job_id,), countdown=settings.SANDBOX_PUBLISH_JOB_FINISH_DELAY)
        )
    return {"errcode": 0, "errmsg": "ok", "publish_id": job.publish_id, "msg_data_id": job.msg_data_id}


def _job(call: Call) -> SandboxPublish:
    publish_id = str(call.json.get("publish_id") or "")
    pk = int(publish_id) - SandboxPublish.PUBLISH_ID_BASE if publish_id.isdigit() else 0
    job = SandboxPublish.objects.filter(app=call.app, pk=pk).first()
    if job is None:
        raise SandboxError(40007, "invalid publish_id")
    return job


def _detail(job: SandboxPublish) -> dict:
    items = [{"idx": i, "article_url": a.get("url", "")} for i, a in enumerate(job.articles, 1) if not a.get("is_deleted")]
    return {"count": len(items), "item": items}


@endpoint("cgi-bin/freepublish/get", methods=("POST",))
def freepublish_get(call: Call) -> dict:
    job = _job(call)
    body = {"publish_id": job.publish_id, "publish_status": job.status, "fail_idx": job.fail_idx}
    if job.article_id:
        body["article_id"] = job.article_id
        body["article_detail"] = _detail(job)
    return body


def _published(call: Call) -> SandboxPublish:
    article_id = str(call.json.get("article_id") or "")
    job = SandboxPublish.objects.filter(app=call.app, article_id=article_id, status=0).exclude(article_id="").first()
    if job is None:
        raise SandboxError(53600, "Article ID 无效")
    return job


@endpoint("cgi-bin/freepublish/getarticle", methods=("POST",))
def freepublish_getarticle(call: Call) -> dict:
    return {"news_item": [{**a, "is_deleted": bool(a.get("is_deleted"))} for a in _published(call).articles]}


@endpoint("cgi-bin/freepublish/delete", methods=("POST",))
def freepublish_delete(call: Call) -> dict:
    job = _published(call)
    index = int(call.json.get("index") or 0)
    if not 0 <= index <= len(job.articles):
        raise SandboxError(47001, "data format error hint: [index]")
    articles = [{**a, "is_deleted": True} if index in (0, i) else a for i, a in enumerate(job.articles, 1)]
    SandboxPublish.objects.filter(pk=job.pk).update(
        articles=articles, status=5 if all(a.get("is_deleted") for a in articles) else job.status
    )
    return {"errcode": 0, "errmsg": "ok"}


@endpoint("cgi-bin/freepublish/batchget", methods=("POST",))
def freepublish_batchget(call: Call) -> dict:
    offset, count, no_content = _page(call)
    jobs = SandboxPublish.objects.filter(app=call.app, status=0).exclude(article_id="")
    items = [
        {
            "article_id": j.article_id,
            "content": {"news_item": _listed([{**a, "is_deleted": bool(a.get("is_deleted"))} for a in j.articles], no_content)},
            "update_time": int(j.finished_at.timestamp()) if j.finished_at else 0,
        }
        for j in jobs[offset : offset + count]
    ]
    return {"total_count": jobs.count(), "item_count": len(items), "item": items}


def _job_finish_fault(app: SandboxApp) -> SandboxFault | None:
    faults = SandboxFault.objects.filter(
        Q(app__isnull=True) | Q(app=app), api=JOB_FINISH_FAULT, kind=SandboxFault.Kind.ERRCODE
    ).order_by("id")
    for fault in faults:
        if fault.remaining is None:
            return fault
        if SandboxFault.objects.filter(pk=fault.pk, remaining__gt=0).update(remaining=F("remaining") - 1):
            return fault
    return None


def event_info_xml(info: dict) -> str:
    """PublishEventInfo as WeChat writes it: article_detail items and one <fail_idx> element per failed article."""
    from ..phone import crypto_cdata

    parts = [f"<publish_id>{info['publish_id']}</publish_id>", f"<publish_status>{info['publish_status']}</publish_status>"]
    if info.get("article_id"):
        parts.append(f"<article_id>{crypto_cdata(info['article_id'])}</article_id>")
        detail = info["article_detail"]
        items = "".join(
            f"<item><idx>{item['idx']}</idx><article_url>{crypto_cdata(item['article_url'])}</article_url></item>"
            for item in detail["item"]
        )
        parts.append(f"<article_detail><count>{detail['count']}</count>{items}</article_detail>")
    parts += [f"<fail_idx>{idx}</fail_idx>" for idx in info.get("fail_idx") or []]
    return "".join(parts)


@shared_task
def publish_job_finish(job_id: int):
    """WeChat's side, a little later: finish the publish job and push PUBLISHJOBFINISH to the callback."""
    from .. import phone

    job = SandboxPublish.objects.select_related("app").filter(pk=job_id, status=1).first()
    if job is None:
        return None
    fault = _job_finish_fault(job.app)
    n = len(job.articles)
    if fault is not None and fault.value in (2, 3, 4):
        status, fail_idx = fault.value, (list(range(1, n + 1)) if fault.value == 3 else [n])
        SandboxPublish.objects.filter(pk=job.pk).update(status=status, fail_idx=fail_idx, finished_at=app_now(job.app))
    else:
        status, fail_idx = 0, []
        job.article_id = secrets.token_urlsafe(32)[:43]
        job.articles = [
            {**a, "url": f"https://mp.weixin.qq.com/s/sandbox-{job.article_id}-{i}", "is_deleted": False}
            for i, a in enumerate(job.articles, 1)
        ]
        SandboxPublish.objects.filter(pk=job.pk).update(
            status=0, article_id=job.article_id, articles=job.articles, finished_at=app_now(job.app)
        )
        SandboxDraft.objects.filter(app=job.app, media_id=job.media_id).update(state=SandboxDraft.State.PUBLISHED)
    job.status, job.fail_idx = status, fail_idx
    info = {"publish_id": job.publish_id, "publish_status": status, "fail_idx": fail_idx}
    if status == 0:
        info.update(article_id=job.article_id, article_detail=_detail(job))
    fields = {
        "FromUserName": PUBLISH_ASSISTANT_OPENID,
        "MsgType": "event",
        "Event": "PUBLISHJOBFINISH",
        "PublishEventInfo": phone.RawXml(event_info_xml(info)),
    }
    return phone.push(job.app, fields).status

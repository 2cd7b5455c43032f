"""Article comments (留言) on published articles, named by msg_data_id and index (from 0).

What the sandbox enforces, as WeChat does: an unknown msg_data_id or index is 88001; listing, electing, replying
and deleting need comments open on the article (88000); list takes 1 to 50 (88010); an unknown or deleted
comment is 88008; one reply per comment (88005); a reply is 1 to 600 characters (88007). Followers' comments
are written with ``comment_write`` (tests, the seeding of the demo account).
"""

from __future__ import annotations

import time

from django.db.models import Max

from ..core import Call, SandboxError, endpoint
from ..models import SandboxApp, SandboxComment, SandboxPublish

PAGE_MAX = 50
REPLY_MAX = 600


def _article(app: SandboxApp, msg_data_id, index) -> tuple[SandboxPublish, int]:
    try:
        pk, index = int(msg_data_id) - SandboxPublish.MSG_DATA_ID_BASE, int(index or 0)
    except (TypeError, ValueError) as exc:
        raise SandboxError(47001) from exc
    job = SandboxPublish.objects.filter(app=app, pk=pk, status=0).exclude(article_id="").first()
    if job is None or not 0 <= index < len(job.articles) or job.articles[index].get("is_deleted"):
        raise SandboxError(88001, "msg_data is not exists")
    return job, index


def _open_article(call: Call) -> tuple[SandboxPublish, int]:
    job, index = _article(call.app, call.json.get("msg_data_id"), call.json.get("index"))
    if not job.articles[index].get("need_open_comment"):
        raise SandboxError(88000, "without comment privilege")
    return job, index


def _set_open(call: Call, value: int) -> dict:
    job, index = _article(call.app, call.json.get("msg_data_id"), call.json.get("index"))
    articles = list(job.articles)
    articles[index] = {**articles[index], "need_open_comment": value}
    SandboxPublish.objects.filter(pk=job.pk).update(articles=articles)
    return {"errcode": 0, "errmsg": "ok"}


@endpoint("cgi-bin/comment/open", methods=("POST",))
def comment_open(call: Call) -> dict:
    return _set_open(call, 1)


@endpoint("cgi-bin/comment/close", methods=("POST",))
def comment_close(call: Call) -> dict:
    return _set_open(call, 0)


def _comments(job: SandboxPublish, index: int):
    return SandboxComment.objects.filter(app=job.app, msg_data_id=job.msg_data_id, index=index, deleted=False)


@endpoint("cgi-bin/comment/list", methods=("POST",))
def comment_list(call: Call) -> dict:
    job, index = _open_article(call)
    try:
        begin, count, kind = int(call.json.get("begin", 0)), int(call.json.get("count", 0)), int(call.json.get("type", 0))
    except (TypeError, ValueError) as exc:
        raise SandboxError(47001) from exc
    if begin < 0 or not 1 <= count <= PAGE_MAX:
        raise SandboxError(88010, "count range error. count <= 0 or count > 50")
    comments = _comments(job, index)
    if kind in (1, 2):
        comments = comments.filter(elected=kind == 2)
    page = []
    for c in comments[begin : begin + count]:
        item = {
            "user_comment_id": c.user_comment_id,
            "openid": c.openid,
            "create_time": c.create_time,
            "content": c.content,
            "comment_type": 1 if c.elected else 0,
        }
        if c.reply_content:
            item["reply"] = {"content": c.reply_content, "create_time": c.reply_time}
        page.append(item)
    return {"errcode": 0, "errmsg": "ok", "total": comments.count(), "comment": page}


def _comment(call: Call) -> SandboxComment:
    job, index = _open_article(call)
    comment = _comments(job, index).filter(user_comment_id=int(call.json.get("user_comment_id") or 0)).first()
    if comment is None:
        raise SandboxError(88008, "comment is not exists")
    return comment


def _set(comment: SandboxComment, **fields) -> dict:
    SandboxComment.objects.filter(pk=comment.pk).update(**fields)
    return {"errcode": 0, "errmsg": "ok"}


@endpoint("cgi-bin/comment/markelect", methods=("POST",))
def comment_markelect(call: Call) -> dict:
    return _set(_comment(call), elected=True)


@endpoint("cgi-bin/comment/unmarkelect", methods=("POST",))
def comment_unmarkelect(call: Call) -> dict:
    return _set(_comment(call), elected=False)


@endpoint("cgi-bin/comment/delete", methods=("POST",))
def comment_delete(call: Call) -> dict:
    return _set(_comment(call), deleted=True)


@endpoint("cgi-bin/comment/reply/add", methods=("POST",))
def comment_reply_add(call: Call) -> dict:
    comment = _comment(call)
    content = str(call.json.get("content") or "")
    if not content.strip() or len(content) > REPLY_MAX:
        raise SandboxError(88007, "reply content beyond max len or content len is zero")
    if comment.reply_content:
        raise SandboxError(88005, "reply already exists")
    return _set(comment, reply_content=content, reply_time=int(time.time()))


@endpoint("cgi-bin/comment/reply/delete", methods=("POST",))
def comment_reply_delete(call: Call) -> dict:
    comment = _comment(call)
    if not comment.reply_content:
        raise SandboxError(88008, "reply is not exists")
    return _set(comment, reply_content="", reply_time=0)


def comment_write(app: SandboxApp, *, article_id: str, index: int, openid: str, content: str) -> SandboxComment:
    """A follower comments on a published article (index from 0). WeChat refuses it while comments are closed."""
    job = SandboxPublish.objects.get(app=app, article_id=article_id, status=0)
    job, index = _article(app, job.msg_data_id, index)
    if not job.articles[index].get("need_open_comment"):
        raise SandboxError(88000, "without comment privilege")
    last = SandboxComment.objects.filter(app=app, msg_data_id=job.msg_data_id, index=index).aggregate(m=Max("user_comment_id"))
    return SandboxComment.objects.create(
        app=app,
        msg_data_id=job.msg_data_id,
        index=index,
        user_comment_id=(last["m"] or 0) + 1,
        openid=openid,
        content=content,
        create_time=int(time.time()),
    )

"""Article comments (留言): open or close them, list, elect (精选), reply and delete (WeChat's comment API).

An article is named by the ``msg_data_id`` of its mass send or publish and its ``index`` (from 0) in that item.
WeChat answers 88000 when comments are not open on the article.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from wechat import gateway
from wechat.errors import WeChatError

from .endpoints import Endpoint

PAGE_MAX = 50
REPLY_MAX_CHARS = 600  # a longer reply is 88007


class CommentType:
    ALL = 0
    NORMAL = 1  # not elected
    ELECTED = 2


@dataclass(frozen=True)
class RemoteComment:
    user_comment_id: int
    openid: str
    content: str
    created_at: datetime | None
    elected: bool
    reply_content: str = ""
    reply_created_at: datetime | None = None


def _time(value) -> datetime | None:
    seconds = int(value or 0)
    return datetime.fromtimestamp(seconds, tz=UTC) if seconds else None


def _comment(item: dict) -> RemoteComment:
    reply = item.get("reply") or {}
    return RemoteComment(
        user_comment_id=int(item.get("user_comment_id") or 0),
        openid=str(item.get("openid") or ""),
        content=str(item.get("content") or ""),
        created_at=_time(item.get("create_time")),
        elected=int(item.get("comment_type") or 0) == 1,
        reply_content=str(reply.get("content") or ""),
        reply_created_at=_time(reply.get("create_time")),
    )


def _target(msg_data_id: str, index: int) -> dict:
    return {"msg_data_id": int(msg_data_id) if str(msg_data_id).isdigit() else msg_data_id, "index": int(index)}


def comments_open(*, account, msg_data_id: str, index: int = 0) -> None:
    gateway.call(account, Endpoint.COMMENT_OPEN, json=_target(msg_data_id, index))


def comments_close(*, account, msg_data_id: str, index: int = 0) -> None:
    gateway.call(account, Endpoint.COMMENT_CLOSE, json=_target(msg_data_id, index))


def comments_page(
    *, account, msg_data_id: str, index: int = 0, begin: int = 0, count: int = PAGE_MAX, comment_type: int = CommentType.ALL
) -> tuple[int, list[RemoteComment]]:
    """One page (up to 50) of an article's comments: (total, comments)."""
    if not 1 <= count <= PAGE_MAX:
        raise WeChatError(88010, f"count range error: 1 to {PAGE_MAX}", endpoint=Endpoint.COMMENT_LIST.path)
    body = {**_target(msg_data_id, index), "begin": int(begin), "count": int(count), "type": int(comment_type)}
    result = gateway.call(account, Endpoint.COMMENT_LIST, json=body)
    return int(result.get("total") or 0), [_comment(item) for item in result.get("comment") or []]


def comments_iter(*, account, msg_data_id: str, index: int = 0, page_size: int = PAGE_MAX) -> Iterator[RemoteComment]:
    begin = 0
    while True:
        total, page = comments_page(account=account, msg_data_id=msg_data_id, index=index, begin=begin, count=page_size)
        yield from page
        begin += len(page)
        if not page or begin >= total:
            return


def _one(msg_data_id: str, index: int, user_comment_id: int) -> dict:
    return {**_target(msg_data_id, index), "user_comment_id": int(user_comment_id)}


def comment_elect(*, account, msg_data_id: str, index: int, user_comment_id: int, elected: bool = True) -> None:
    """Mark a comment elected (精选), shown to every reader, or take the mark off."""
    endpoint = Endpoint.COMMENT_MARKELECT if elected else Endpoint.COMMENT_UNMARKELECT
    gateway.call(account, endpoint, json=_one(msg_data_id, index, user_comment_id))


def comment_delete(*, account, msg_data_id: str, index: int, user_comment_id: int) -> None:
    gateway.call(account, Endpoint.COMMENT_DELETE, json=_one(msg_data_id, index, user_comment_id))


def comment_reply(*, account, msg_data_id: str, index: int, user_comment_id: int, content: str) -> None:
    """The account's reply to a comment (one per comment; 88005 when it has one already)."""
    if not content.strip() or len(content) > REPLY_MAX_CHARS:
        raise WeChatError(88007, "reply content beyond max len or content len is zero", endpoint=Endpoint.COMMENT_REPLY_ADD.path)
    gateway.call(account, Endpoint.COMMENT_REPLY_ADD, json={**_one(msg_data_id, index, user_comment_id), "content": content})


def comment_reply_delete(*, account, msg_data_id: str, index: int, user_comment_id: int) -> None:
    gateway.call(account, Endpoint.COMMENT_REPLY_DELETE, json=_one(msg_data_id, index, user_comment_id))

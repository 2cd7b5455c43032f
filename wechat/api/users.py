"""Follower profiles, the follower list and remarks (API.md §4)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TypedDict

from wechat import gateway
from wechat.errors import WeChatError

from .endpoints import Endpoint

REMARK_MAX_CHARS = 29  # WeChat: "less than 30 characters"


class UserInfo(TypedDict, total=False):
    """``user/info`` as WeChat sends it; since 2021-12-27 nickname and avatar are no longer filled."""

    subscribe: int
    openid: str
    language: str
    subscribe_time: int
    unionid: str
    remark: str
    groupid: int
    tagid_list: list[int]
    subscribe_scene: str
    qr_scene: int
    qr_scene_str: str
    nickname: str
    sex: int
    city: str
    province: str
    country: str
    headimgurl: str


@dataclass(frozen=True)
class OpenidPage:
    openids: tuple[str, ...]
    next_openid: str
    total: int | None = None


def user_info(*, account, openid: str, lang: str = "zh_CN") -> UserInfo:
    return gateway.call(account, Endpoint.USER_INFO, params={"openid": openid, "lang": lang})


def user_info_batch(*, account, openids: Sequence[str], lang: str = "zh_CN") -> list[UserInfo]:
    """``user/info/batchget``: at most 100 openids per call (ValueError beyond)."""
    limit = Endpoint.USER_INFO_BATCHGET.value.batch_limit
    if len(openids) > limit:
        raise ValueError(f"user/info/batchget takes at most {limit} openids, got {len(openids)}")
    body = {"user_list": [{"openid": openid, "lang": lang} for openid in openids]}
    return list(gateway.call(account, Endpoint.USER_INFO_BATCHGET, json=body).get("user_info_list") or [])


def followers_page(*, account, next_openid: str = "") -> OpenidPage:
    """One page (up to 10,000) of ``user/get``, starting after ``next_openid``."""
    result = gateway.call(account, Endpoint.USER_GET, params={"next_openid": next_openid or None})
    total = result.get("total")
    return OpenidPage(
        openids=tuple((result.get("data") or {}).get("openid") or ()),
        next_openid=str(result.get("next_openid") or ""),
        total=int(total) if total is not None else None,
    )


def followers_iter(*, account, start: str = "") -> Iterator[OpenidPage]:
    """Every non-empty page of the follower list, until WeChat returns an empty page or no new next_openid."""
    cursor = start
    while True:
        page = followers_page(account=account, next_openid=cursor)
        if not page.openids:
            return
        yield page
        if not page.next_openid or page.next_openid == cursor:
            return
        cursor = page.next_openid


def user_remark_set(*, account, openid: str, remark: str) -> None:
    """``user/info/updateremark``; the remark must be under 30 characters (beyond: WeChat's refusal, 45002,
    without the call)."""
    if len(remark) > REMARK_MAX_CHARS:
        raise WeChatError(45002, f"remark too long: at most {REMARK_MAX_CHARS} characters", endpoint=Endpoint.USER_REMARK.path)
    gateway.call(account, Endpoint.USER_REMARK, json={"openid": openid, "remark": remark})

"""Customer service: messages inside the 48-hour window, the typing indicator, and agent accounts (API.md §9)."""

from __future__ import annotations

from typing import IO, TypedDict

from wechat import gateway
from wechat.outgoing import CustomPayload

from .endpoints import Endpoint


class KfInfo(TypedDict, total=False):
    kf_account: str
    kf_nick: str
    kf_id: str
    kf_headimgurl: str
    kf_wx: str
    invite_wx: str
    invite_status: str
    invite_expire_time: int


class KfOnline(TypedDict, total=False):
    kf_account: str
    status: int
    kf_id: str
    accepted_case: int


def custom_send(*, account, openid: str, payload: CustomPayload, kf_account: str = "") -> None:
    """``message/custom/send`` of one payload from ``wechat.outgoing.custom_payloads`` (stored rows keep that shape),
    optionally as a given agent. Outside the window WeChat answers 45015."""
    body = {"touser": openid, **payload}
    if kf_account:
        body["customservice"] = {"kf_account": kf_account}
    gateway.call(account, Endpoint.CUSTOM_SEND, json=body)


def custom_typing(*, account, openid: str, typing: bool = True) -> None:
    """Show (or cancel) "typing…" on the follower's phone for about 15 seconds."""
    gateway.call(account, Endpoint.CUSTOM_TYPING, json={"touser": openid, "command": "Typing" if typing else "CancelTyping"})


def kf_list(*, account) -> list[KfInfo]:
    return list(gateway.call(account, Endpoint.KF_LIST).get("kf_list") or [])


def kf_online_list(*, account) -> list[KfOnline]:
    return list(gateway.call(account, Endpoint.KF_ONLINE_LIST).get("kf_online_list") or [])


def kf_add(*, account, kf_account: str, nickname: str) -> None:
    """WeChat answers 65406 when the agent account exists already."""
    gateway.call(account, Endpoint.KF_ADD, json={"kf_account": kf_account, "nickname": nickname})


def kf_update(*, account, kf_account: str, nickname: str) -> None:
    gateway.call(account, Endpoint.KF_UPDATE, json={"kf_account": kf_account, "nickname": nickname})


def kf_delete(*, account, kf_account: str) -> None:
    """WeChat answers 65401 when there is no such agent account."""
    gateway.call(account, Endpoint.KF_DELETE, params={"kf_account": kf_account})


def kf_invite(*, account, kf_account: str, invite_wx: str) -> None:
    """Invite a WeChat user to bind the agent account; 65411 while an earlier invitation waits."""
    gateway.call(account, Endpoint.KF_INVITE, json={"kf_account": kf_account, "invite_wx": invite_wx})


def kf_avatar_upload(*, account, kf_account: str, image: IO[bytes]) -> None:
    gateway.call(account, Endpoint.KF_AVATAR, params={"kf_account": kf_account}, files={"media": image})

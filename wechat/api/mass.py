"""Mass sends: to all, to a tag or to a list of openids, preview, status, delete and speed (API.md §8).

Every send carries a ``clientmsgid``: WeChat answers a repeat with 45065 and the msg_id of the first send,
which ``mass_send`` returns as an accepted send marked ``duplicate`` instead of an error.
"""

from __future__ import annotations

from dataclasses import dataclass

from wechat import gateway
from wechat.errors import WeChatError
from wechat.outgoing import OutgoingMessage, mass_payload

from .endpoints import Endpoint

DUPLICATE_CLIENTMSGID = 45065


@dataclass(frozen=True)
class ToAll:
    pass


@dataclass(frozen=True)
class ToTag:
    tag_id: int


@dataclass(frozen=True)
class ToOpenids:
    openids: tuple[str, ...]


MassTarget = ToAll | ToTag | ToOpenids


@dataclass(frozen=True)
class MassAccepted:
    msg_id: str
    msg_data_id: str = ""
    duplicate: bool = False  # WeChat had a send with this clientmsgid already (45065): this is that send


@dataclass(frozen=True)
class MassSpeed:
    speed: int
    realspeed: int


def _accepted(result: dict, *, duplicate: bool) -> MassAccepted:
    return MassAccepted(
        msg_id=str(result.get("msg_id", "")), msg_data_id=str(result.get("msg_data_id", "") or ""), duplicate=duplicate
    )


def mass_send(
    *, account, message: OutgoingMessage, target: MassTarget, clientmsgid: str, send_ignore_reprint: bool = False
) -> MassAccepted:
    """``message/mass/sendall`` (all, a tag) or ``message/mass/send`` (2 to 10,000 openids)."""
    body = {**mass_payload(message, send_ignore_reprint=send_ignore_reprint), "clientmsgid": clientmsgid}
    match target:
        case ToOpenids(openids=openids):
            limit = Endpoint.MASS_SEND.value.batch_limit
            if len(openids) > limit:
                raise ValueError(f"message/mass/send takes at most {limit} openids, got {len(openids)}")
            endpoint, body = Endpoint.MASS_SEND, {"touser": list(openids), **body}
        case ToTag(tag_id=tag_id):
            endpoint, body = Endpoint.MASS_SENDALL, {"filter": {"is_to_all": False, "tag_id": tag_id}, **body}
        case ToAll():
            endpoint, body = Endpoint.MASS_SENDALL, {"filter": {"is_to_all": True}, **body}
        case _:
            raise TypeError(f"not a mass target: {target!r}")
    try:
        result = gateway.call(account, endpoint, json=body)
    except WeChatError as exc:
        if exc.errcode != DUPLICATE_CLIENTMSGID:
            raise
        return _accepted(exc.response or {}, duplicate=True)
    return _accepted(result, duplicate=False)


def mass_preview(*, account, openid: str, message: OutgoingMessage, send_ignore_reprint: bool = False) -> None:
    """Send the message to one follower's phone first (about 100 previews a day)."""
    body = {"touser": openid, **mass_payload(message, send_ignore_reprint=send_ignore_reprint)}
    gateway.call(account, Endpoint.MASS_PREVIEW, json=body)


def _msg_id(msg_id: str) -> int | str:
    return int(msg_id) if str(msg_id).isdigit() else msg_id


def mass_delete(*, account, msg_id: str, article_idx: int = 0) -> None:
    """Delete a sent article or video; ``article_idx`` 1.. deletes one article, 0 all of them."""
    body: dict = {"msg_id": _msg_id(msg_id)}
    if article_idx:
        body["article_idx"] = article_idx
    gateway.call(account, Endpoint.MASS_DELETE, json=body)


def mass_status(*, account, msg_id: str) -> str:
    """SEND_SUCCESS, SENDING, SEND_FAIL or DELETE."""
    return str(gateway.call(account, Endpoint.MASS_GET, json={"msg_id": _msg_id(msg_id)}).get("msg_status", ""))


def mass_speed_get(*, account) -> MassSpeed:
    result = gateway.call(account, Endpoint.MASS_SPEED_GET, json={})
    return MassSpeed(speed=int(result.get("speed", 0)), realspeed=int(result.get("realspeed", 0)))


def mass_speed_set(*, account, speed: int) -> None:
    """Level 0 (fastest, about 800,000 a minute) to 4 (about 100,000)."""
    gateway.call(account, Endpoint.MASS_SPEED_SET, json={"speed": speed})

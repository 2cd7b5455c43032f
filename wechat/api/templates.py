"""Template messages: sending, the account's templates, and its industry (API.md §9)."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypedDict

from wechat import gateway

from . import pool
from .endpoints import Endpoint


class MiniProgram(TypedDict):
    appid: str
    pagepath: str


class Industry(TypedDict, total=False):
    primary_industry: dict[str, str]
    secondary_industry: dict[str, str]


@dataclass(frozen=True)
class RemoteTemplate:
    template_id: str
    title: str = ""
    primary_industry: str = ""
    deputy_industry: str = ""
    content: str = ""
    example: str = ""


def template_send(
    *,
    account,
    openid: str,
    template_id: str,
    data: Mapping[str, Mapping[str, str]],
    url: str = "",
    miniprogram: MiniProgram | None = None,
    client_msg_id: str = "",
) -> str:
    """``message/template/send``: the msgid. The same ``client_msg_id`` makes a repeat after a timeout safe."""
    body = {**_receiver(openid, client_msg_id), **_content(template_id, data, url, miniprogram)}
    return str(gateway.call(account, Endpoint.TEMPLATE_SEND, json=body).get("msgid", ""))


def _receiver(openid: str, client_msg_id: str) -> dict:
    """The fields of a template send's body that name its receiver (and its client_msg_id, when it has one)."""
    fields = {"touser": openid}
    if client_msg_id:
        fields["client_msg_id"] = client_msg_id
    return fields


def _content(template_id: str, data, url: str, miniprogram: MiniProgram | None) -> dict:
    """The fields of a template send's body that every receiver of the same message gets."""
    fields: dict = {"template_id": template_id, "data": data}
    if url:
        fields["url"] = url
    if miniprogram:
        fields["miniprogram"] = {"appid": miniprogram["appid"], "pagepath": miniprogram["pagepath"]}
    return fields


def template_sender(
    *,
    account,
    template_id: str,
    data: Mapping[str, Mapping[str, str]],
    url: str = "",
    miniprogram: MiniProgram | None = None,
) -> Callable[..., str]:
    """``template_send`` of one content to many receivers, for a pool of pushing threads: ``send(openid=...,
    client_msg_id=...)`` returns the msgid.

    The content is encoded once: each call only adds its receiver and client_msg_id to the body. The token is read
    here, in the calling thread, so the pool's threads find it in the process's token cache instead of each opening
    a database connection to read it."""
    pool.token_read(account=account)
    content = jsonlib.dumps(_content(template_id, data, url, miniprogram), ensure_ascii=False).encode("utf-8")
    content = content[1:]  # without its opening brace: it follows the receiver's fields

    def send(*, openid: str, client_msg_id: str = "") -> str:
        receiver = jsonlib.dumps(_receiver(openid, client_msg_id), ensure_ascii=False).encode("utf-8")
        body = receiver[:-1] + b", " + content
        return str(gateway.call(account, Endpoint.TEMPLATE_SEND, encoded_json=body).get("msgid", ""))

    return send


def templates_list(*, account) -> list[RemoteTemplate]:
    result = gateway.call(account, Endpoint.TEMPLATE_LIST)
    return [
        RemoteTemplate(
            template_id=str(item.get("template_id") or ""),
            title=str(item.get("title") or ""),
            primary_industry=str(item.get("primary_industry") or ""),
            deputy_industry=str(item.get("deputy_industry") or ""),
            content=str(item.get("content") or ""),
            example=str(item.get("example") or ""),
        )
        for item in result.get("template_list") or []
        if item.get("template_id")
    ]


def template_add(*, account, template_id_short: str, keyword_names: Sequence[str] = ()) -> str:
    """Add a template from WeChat's library (e.g. ``TM00015``): the new template_id."""
    body: dict = {"template_id_short": template_id_short}
    if keyword_names:
        body["keyword_name_list"] = list(keyword_names)
    return str(gateway.call(account, Endpoint.TEMPLATE_ADD, json=body)["template_id"])


def template_delete(*, account, template_id: str) -> None:
    gateway.call(account, Endpoint.TEMPLATE_DELETE, json={"template_id": template_id})


def industry_get(*, account) -> Industry:
    result = gateway.call(account, Endpoint.INDUSTRY_GET)
    return {key: result[key] for key in ("primary_industry", "secondary_industry") if key in result}


def industry_set(*, account, industry_id1: int, industry_id2: int) -> None:
    """WeChat takes the ids as strings; it allows a change about once a month."""
    gateway.call(account, Endpoint.INDUSTRY_SET, json={"industry_id1": str(industry_id1), "industry_id2": str(industry_id2)})

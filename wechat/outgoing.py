"""The one builder of outgoing messages: values for what we send, and WeChat's wire format for each channel.

A message is a small frozen value (``Text``, ``Image``, ``News``, ...), independent of who receives it and how.
Three channels carry messages, each with its own shape and its own subset of types (``SUPPORTED``):

- ``Channel.REPLY``: the passive reply XML answered to a callback (API.md §2.1), ``reply_xml``;
- ``Channel.CUSTOM``: customer-service messages, ``message/custom/send`` (API.md §9), ``custom_payloads``;
- ``Channel.MASS``: mass sends and previews, ``message/mass/*`` (API.md §8), ``mass_payload``.

``to_dict``/``from_dict`` make a value JSON-safe for task arguments and storage. No Django models here.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from typing import Any, ClassVar

from wechat.crypto import parse_xml

# News in a passive reply: one article when answering a message, up to eight when answering an event.
MAX_NEWS_FOR_MESSAGE = 1
MAX_NEWS_FOR_EVENT = 8


class UnsupportedMessage(ValueError):
    """The message type cannot travel on this channel (e.g. a mini program card as a passive reply)."""


@dataclass(frozen=True)
class Text:
    kind: ClassVar[str] = "text"
    content: str


@dataclass(frozen=True)
class Image:
    kind: ClassVar[str] = "image"
    media_id: str


@dataclass(frozen=True)
class Voice:
    kind: ClassVar[str] = "voice"
    media_id: str


@dataclass(frozen=True)
class Video:
    """A video; in a mass send WeChat calls it ``mpvideo``."""

    kind: ClassVar[str] = "video"
    media_id: str
    title: str = ""
    description: str = ""


@dataclass(frozen=True)
class Music:
    kind: ClassVar[str] = "music"
    title: str = ""
    description: str = ""
    music_url: str = ""
    hq_music_url: str = ""
    thumb_media_id: str = ""


@dataclass(frozen=True)
class Article:
    """One external-link article of a ``News`` message."""

    title: str = ""
    description: str = ""
    url: str = ""
    picurl: str = ""


@dataclass(frozen=True)
class News:
    kind: ClassVar[str] = "news"
    articles: tuple[Article, ...]


@dataclass(frozen=True)
class Images:
    """Mass sends' image message: up to several images, with comment settings."""

    kind: ClassVar[str] = "images"
    media_ids: tuple[str, ...]
    recommend: str = ""
    need_open_comment: bool = False
    only_fans_can_comment: bool = False


@dataclass(frozen=True)
class MpNews:
    """A draft or published article by its media_id."""

    kind: ClassVar[str] = "mpnews"
    media_id: str


@dataclass(frozen=True)
class MiniProgramPage:
    kind: ClassVar[str] = "miniprogrampage"
    appid: str
    pagepath: str
    title: str = ""
    thumb_media_id: str = ""


@dataclass(frozen=True)
class WxCard:
    kind: ClassVar[str] = "wxcard"
    card_id: str


@dataclass(frozen=True)
class TransferCustomerService:
    """Hand the conversation to the customer-service system (optionally to one agent): a passive reply only."""

    kind: ClassVar[str] = "transfer_customer_service"
    kf_account: str = ""


OutgoingMessage = (
    Text | Image | Voice | Video | Music | News | Images | MpNews | MiniProgramPage | WxCard | TransferCustomerService
)
CustomPayload = dict[str, Any]

MESSAGE_TYPES: dict[str, type] = {
    cls.kind: cls
    for cls in (Text, Image, Voice, Video, Music, News, Images, MpNews, MiniProgramPage, WxCard, TransferCustomerService)
}


class Channel(StrEnum):
    REPLY = "reply"
    CUSTOM = "custom"
    MASS = "mass"


# The one compatibility matrix: which message types each channel carries.
SUPPORTED: dict[Channel, frozenset[type]] = {
    Channel.REPLY: frozenset({Text, Image, Voice, Video, Music, News, TransferCustomerService}),
    Channel.CUSTOM: frozenset({Text, Image, Voice, Video, Music, News, MpNews, MiniProgramPage, WxCard}),
    Channel.MASS: frozenset({Text, Images, Voice, Video, MpNews, WxCard}),
}


def supports(channel: Channel, message: OutgoingMessage) -> bool:
    return type(message) in SUPPORTED[channel]


def _require(channel: Channel, message: OutgoingMessage) -> None:
    if not supports(channel, message):
        raise UnsupportedMessage(f"{type(message).__name__} cannot be sent as {channel.value}")


# --- Passive reply XML ---------------------------------------------------------------------------


def cdata(value) -> str:
    text = "" if value is None else str(value)
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _reply_body(message: OutgoingMessage, *, for_event: bool) -> list[str]:
    match message:
        case Text(content=content):
            return [f"<Content>{cdata(content)}</Content>"]
        case Image(media_id=media_id) | Voice(media_id=media_id):
            tag = message.kind.capitalize()
            return [f"<{tag}>", f"<MediaId>{cdata(media_id)}</MediaId>", f"</{tag}>"]
        case Video():
            return [
                "<Video>",
                f"<MediaId>{cdata(message.media_id)}</MediaId>",
                f"<Title>{cdata(message.title)}</Title>",
                f"<Description>{cdata(message.description)}</Description>",
                "</Video>",
            ]
        case Music():
            return [
                "<Music>",
                f"<Title>{cdata(message.title)}</Title>",
                f"<Description>{cdata(message.description)}</Description>",
                f"<MusicUrl>{cdata(message.music_url)}</MusicUrl>",
                f"<HQMusicUrl>{cdata(message.hq_music_url)}</HQMusicUrl>",
                f"<ThumbMediaId>{cdata(message.thumb_media_id)}</ThumbMediaId>",
                "</Music>",
            ]
        case News():
            articles = message.articles[: MAX_NEWS_FOR_EVENT if for_event else MAX_NEWS_FOR_MESSAGE]
            lines = [f"<ArticleCount>{len(articles)}</ArticleCount>", "<Articles>"]
            for article in articles:
                lines += [
                    "<item>",
                    f"<Title>{cdata(article.title)}</Title>",
                    f"<Description>{cdata(article.description)}</Description>",
                    f"<PicUrl>{cdata(article.picurl)}</PicUrl>",
                    f"<Url>{cdata(article.url)}</Url>",
                    "</item>",
                ]
            return [*lines, "</Articles>"]
        case TransferCustomerService(kf_account=kf_account):
            if kf_account:
                return ["<TransInfo>", f"<KfAccount>{cdata(kf_account)}</KfAccount>", "</TransInfo>"]
            return []
    raise UnsupportedMessage(f"{type(message).__name__} cannot be sent as reply")


def reply_xml(
    message: OutgoingMessage, *, to_user: str, from_user: str, create_time: int | None = None, for_event: bool = False
) -> str:
    """Passive reply XML addressed to ``to_user`` (the follower) from ``from_user`` (the account's gh_ id).
    News carries one article in answer to a message and up to eight in answer to an event (``for_event``)."""
    _require(Channel.REPLY, message)
    lines = [
        "<xml>",
        f"<ToUserName>{cdata(to_user)}</ToUserName>",
        f"<FromUserName>{cdata(from_user)}</FromUserName>",
        f"<CreateTime>{int(create_time if create_time is not None else time.time())}</CreateTime>",
        f"<MsgType>{cdata(message.kind)}</MsgType>",
        *_reply_body(message, for_event=for_event),
        "</xml>",
    ]
    return "\n".join(lines)


def reply_from_xml(xml: str) -> OutgoingMessage:
    """The message a stored passive reply carries (what ``reply_xml`` wrote), for threads and logs.
    Raises ``UnsupportedMessage`` for a type this module does not build and ``CallbackError`` for bad XML."""
    data = parse_xml(xml, max_bytes=1 << 20)
    kind = str(data.get("MsgType") or "")

    def part(name: str) -> Mapping[str, Any]:
        value = data.get(name)
        return value if isinstance(value, Mapping) else {}

    def text(mapping: Mapping[str, Any], key: str) -> str:
        return str(mapping.get(key) or "")

    if kind == "text":
        return Text(text(data, "Content"))
    if kind in ("image", "voice"):
        media_id = text(part(kind.capitalize()), "MediaId")
        return Image(media_id) if kind == "image" else Voice(media_id)
    if kind == "video":
        video = part("Video")
        return Video(text(video, "MediaId"), text(video, "Title"), text(video, "Description"))
    if kind == "music":
        music = part("Music")
        return Music(
            title=text(music, "Title"),
            description=text(music, "Description"),
            music_url=text(music, "MusicUrl"),
            hq_music_url=text(music, "HQMusicUrl"),
            thumb_media_id=text(music, "ThumbMediaId"),
        )
    if kind == "news":
        items = part("Articles").get("item") or []
        items = items if isinstance(items, list) else [items]
        return News(
            tuple(
                Article(title=text(i, "Title"), description=text(i, "Description"), url=text(i, "Url"), picurl=text(i, "PicUrl"))
                for i in items
                if isinstance(i, Mapping)
            )
        )
    if kind == "transfer_customer_service":
        return TransferCustomerService(text(part("TransInfo"), "KfAccount"))
    raise UnsupportedMessage(f"unknown reply type {kind!r}")


# --- Customer-service JSON -----------------------------------------------------------------------


def _article_json(article: Article) -> dict:
    return {"title": article.title, "description": article.description, "url": article.url, "picurl": article.picurl}


def custom_payloads(message: OutgoingMessage) -> list[CustomPayload]:
    """The ``message/custom/send`` bodies (without ``touser`` and ``customservice``) that carry ``message``.

    WeChat takes one external-link article per customer-service message, so news goes one article each.
    A transfer to customer service is an instruction to WeChat, not content: it gives no message.
    """
    match message:
        case TransferCustomerService():
            return []
        case Text(content=content):
            return [{"msgtype": "text", "text": {"content": content}}]
        case Image(media_id=media_id) | Voice(media_id=media_id) | MpNews(media_id=media_id):
            return [{"msgtype": message.kind, message.kind: {"media_id": media_id}}]
        case Video():
            body = {"media_id": message.media_id, "title": message.title, "description": message.description}
            return [{"msgtype": "video", "video": body}]
        case Music():
            body = {
                "title": message.title,
                "description": message.description,
                "musicurl": message.music_url,
                "hqmusicurl": message.hq_music_url,
                "thumb_media_id": message.thumb_media_id,
            }
            return [{"msgtype": "music", "music": body}]
        case News(articles=articles):
            return [{"msgtype": "news", "news": {"articles": [_article_json(article)]}} for article in articles]
        case MiniProgramPage():
            card = {
                "appid": message.appid,
                "pagepath": message.pagepath,
                "title": message.title,
                "thumb_media_id": message.thumb_media_id,
            }
            return [{"msgtype": "miniprogrampage", "miniprogrampage": card}]
        case WxCard(card_id=card_id):
            return [{"msgtype": "wxcard", "wxcard": {"card_id": card_id}}]
    raise UnsupportedMessage(f"{type(message).__name__} cannot be sent as custom")


# --- Mass JSON -----------------------------------------------------------------------------------


def mass_payload(message: OutgoingMessage, *, send_ignore_reprint: bool = False) -> dict:
    """The ``message/mass/send``, ``sendall`` and ``preview`` body without ``touser``/``filter``/``clientmsgid``
    (``wechat.api.mass`` adds them). ``send_ignore_reprint`` applies to articles only."""
    match message:
        case Text(content=content):
            return {"msgtype": "text", "text": {"content": content}}
        case Images():
            return {
                "msgtype": "image",
                "images": {
                    "media_ids": list(message.media_ids),
                    "recommend": message.recommend,
                    "need_open_comment": int(message.need_open_comment),
                    "only_fans_can_comment": int(message.only_fans_can_comment),
                },
            }
        case Voice(media_id=media_id):
            return {"msgtype": "voice", "voice": {"media_id": media_id}}
        case Video():
            video = {"media_id": message.media_id}
            if message.title:
                video["title"] = message.title
            if message.description:
                video["description"] = message.description
            return {"msgtype": "mpvideo", "mpvideo": video}
        case MpNews(media_id=media_id):
            return {"msgtype": "mpnews", "mpnews": {"media_id": media_id}, "send_ignore_reprint": int(send_ignore_reprint)}
        case WxCard(card_id=card_id):
            return {"msgtype": "wxcard", "wxcard": {"card_id": card_id}}
    raise UnsupportedMessage(f"{type(message).__name__} cannot be sent as mass")


# --- Previews and storage ------------------------------------------------------------------------


def summary(message: OutgoingMessage | Mapping[str, Any]) -> str:
    """A one-line preview for the inbox and lists: the text itself, else ``[type]`` and a title where there is one.
    Takes a message value or a stored customer-service payload (what ``custom_payloads`` returned)."""
    if isinstance(message, Mapping):
        msgtype = message.get("msgtype", "")
        body = message.get(msgtype) or {}
        if msgtype == "text":
            return str(body.get("content", ""))
        if msgtype == "news":
            articles = body.get("articles") or [{}]
            return f"[news] {articles[0].get('title', '')}"
        if msgtype == "miniprogrampage":
            return f"[miniprogrampage] {body.get('title', '')}"
        return f"[{msgtype}]"
    match message:
        case Text(content=content):
            return content
        case News(articles=articles):
            return f"[news] {articles[0].title if articles else ''}"
        case MiniProgramPage(title=title):
            return f"[miniprogrampage] {title}"
    return f"[{message.kind}]"


def to_dict(message: OutgoingMessage) -> dict:
    """A JSON-safe dict: ``{"type": kind, **fields}``."""
    data = {"type": message.kind, **asdict(message)}
    if isinstance(message, News):
        data["articles"] = [asdict(article) for article in message.articles]
    if isinstance(message, Images):
        data["media_ids"] = list(message.media_ids)
    return data


def from_dict(data: Mapping[str, Any]) -> OutgoingMessage:
    """The value ``to_dict`` gave; unknown keys are refused."""
    values = dict(data)
    kind = values.pop("type", None)
    cls = MESSAGE_TYPES.get(kind)
    if cls is None:
        raise UnsupportedMessage(f"unknown message type {kind!r}")
    known = {f.name for f in fields(cls)}
    if unknown := set(values) - known:
        raise ValueError(f"unknown fields for {kind}: {sorted(unknown)}")
    if cls is News:
        values["articles"] = tuple(Article(**article) for article in values.get("articles", ()))
    if cls is Images:
        values["media_ids"] = tuple(values.get("media_ids", ()))
    return cls(**values)

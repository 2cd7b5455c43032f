"""Passive replies (被动回复): the one place that renders reply XML (API.md §2.1)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

SUCCESS = "success"
MAX_NEWS_FOR_MESSAGE = 1
MAX_NEWS_FOR_EVENT = 8


def cdata(value) -> str:
    text = "" if value is None else str(value)
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


@dataclass(frozen=True)
class Reply:
    """What to answer: a type and its fields, independent of who it goes to."""

    msg_type: str
    fields: dict = field(default_factory=dict)

    @classmethod
    def text(cls, content: str) -> Reply:
        return cls("text", {"content": content})

    @classmethod
    def image(cls, media_id: str) -> Reply:
        return cls("image", {"media_id": media_id})

    @classmethod
    def voice(cls, media_id: str) -> Reply:
        return cls("voice", {"media_id": media_id})

    @classmethod
    def video(cls, media_id: str, title: str = "", description: str = "") -> Reply:
        return cls("video", {"media_id": media_id, "title": title, "description": description})

    @classmethod
    def music(cls, *, title="", description="", music_url="", hq_music_url="", thumb_media_id="") -> Reply:
        return cls(
            "music",
            {
                "title": title,
                "description": description,
                "music_url": music_url,
                "hq_music_url": hq_music_url,
                "thumb_media_id": thumb_media_id,
            },
        )

    @classmethod
    def news(cls, articles: list[dict]) -> Reply:
        return cls("news", {"articles": [dict(a) for a in articles]})

    @classmethod
    def transfer_customer_service(cls, kf_account: str = "") -> Reply:
        return cls("transfer_customer_service", {"kf_account": kf_account})


def _body(reply: Reply, *, for_event: bool) -> list[str]:
    f = reply.fields
    t = reply.msg_type
    if t == "text":
        return [f"<Content>{cdata(f['content'])}</Content>"]
    if t in ("image", "voice"):
        tag = t.capitalize()
        return [f"<{tag}>", f"<MediaId>{cdata(f['media_id'])}</MediaId>", f"</{tag}>"]
    if t == "video":
        return [
            "<Video>",
            f"<MediaId>{cdata(f['media_id'])}</MediaId>",
            f"<Title>{cdata(f.get('title', ''))}</Title>",
            f"<Description>{cdata(f.get('description', ''))}</Description>",
            "</Video>",
        ]
    if t == "music":
        return [
            "<Music>",
            f"<Title>{cdata(f.get('title', ''))}</Title>",
            f"<Description>{cdata(f.get('description', ''))}</Description>",
            f"<MusicUrl>{cdata(f.get('music_url', ''))}</MusicUrl>",
            f"<HQMusicUrl>{cdata(f.get('hq_music_url', ''))}</HQMusicUrl>",
            f"<ThumbMediaId>{cdata(f.get('thumb_media_id', ''))}</ThumbMediaId>",
            "</Music>",
        ]
    if t == "news":
        limit = MAX_NEWS_FOR_EVENT if for_event else MAX_NEWS_FOR_MESSAGE
        articles = f["articles"][:limit]
        lines = [f"<ArticleCount>{len(articles)}</ArticleCount>", "<Articles>"]
        for a in articles:
            lines += [
                "<item>",
                f"<Title>{cdata(a.get('title', ''))}</Title>",
                f"<Description>{cdata(a.get('description', ''))}</Description>",
                f"<PicUrl>{cdata(a.get('picurl', ''))}</PicUrl>",
                f"<Url>{cdata(a.get('url', ''))}</Url>",
                "</item>",
            ]
        return [*lines, "</Articles>"]
    if t == "transfer_customer_service":
        if f.get("kf_account"):
            return ["<TransInfo>", f"<KfAccount>{cdata(f['kf_account'])}</KfAccount>", "</TransInfo>"]
        return []
    raise ValueError(f"unknown reply type {t!r}")


def render(reply: Reply, *, to_user: str, from_user: str, create_time: int | None = None, for_event: bool = False) -> str:
    """Reply XML addressed to ``to_user`` (the follower) from ``from_user`` (the account's gh_ id)."""
    lines = [
        "<xml>",
        f"<ToUserName>{cdata(to_user)}</ToUserName>",
        f"<FromUserName>{cdata(from_user)}</FromUserName>",
        f"<CreateTime>{int(create_time if create_time is not None else time.time())}</CreateTime>",
        f"<MsgType>{cdata(reply.msg_type)}</MsgType>",
        *_body(reply, for_event=for_event),
        "</xml>",
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class Match:
    """The passive reply chosen for an inbound message, and the auto-reply rule that chose it."""

    reply: Reply | None
    rule_id: int | None = None


# The auto-reply app registers the function that picks a message's passive reply (AutoreplyConfig.ready()).
_reply_provider = None


def reply_provider_set(provider) -> None:
    """``provider(account, data) -> Match``; runs inside the callback, so it makes no network calls."""
    global _reply_provider
    _reply_provider = provider


def reply_for(account, data: dict) -> Match:
    if _reply_provider is None:
        return Match(None)
    return _reply_provider(account, data)

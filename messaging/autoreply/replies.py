"""Auto-reply rules: the outgoing message a rule's reply content stands for (passive reply or follow-up)."""

from __future__ import annotations

from wechat.outgoing import (
    Article,
    Image,
    Music,
    News,
    OutgoingMessage,
    Text,
    TransferCustomerService,
    Video,
    Voice,
)

from .models import AutoReplyContent


def _article(data: dict) -> Article:
    return Article(
        title=data.get("title", ""),
        description=data.get("description", ""),
        url=data.get("url", ""),
        picurl=data.get("picurl", ""),
    )


def content_message(content: AutoReplyContent) -> OutgoingMessage:
    t = AutoReplyContent.Type
    if content.reply_type == t.TEXT:
        return Text(content.text)
    if content.reply_type == t.IMAGE:
        return Image(content.media_id)
    if content.reply_type == t.VOICE:
        return Voice(content.media_id)
    if content.reply_type == t.VIDEO:
        return Video(content.media_id, content.title, content.description)
    if content.reply_type == t.MUSIC:
        return Music(
            title=content.title,
            description=content.description,
            music_url=content.music_url,
            hq_music_url=content.hq_music_url or content.music_url,
            thumb_media_id=content.thumb_media_id,
        )
    if content.reply_type == t.NEWS:
        return News(tuple(_article(a) for a in content.articles))
    return TransferCustomerService(content.kf_account)

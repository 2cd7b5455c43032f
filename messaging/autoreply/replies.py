"""Auto-reply rules: the replies a rule's contents stand for, passive (XML) and customer-service follow-ups."""

from __future__ import annotations

from messaging.inbound.replies import Reply

from .models import AutoReplyContent


def reply_from_content(content: AutoReplyContent) -> Reply:
    t = AutoReplyContent.Type
    if content.reply_type == t.TEXT:
        return Reply.text(content.text)
    if content.reply_type == t.IMAGE:
        return Reply.image(content.media_id)
    if content.reply_type == t.VOICE:
        return Reply.voice(content.media_id)
    if content.reply_type == t.VIDEO:
        return Reply.video(content.media_id, content.title, content.description)
    if content.reply_type == t.MUSIC:
        return Reply.music(
            title=content.title,
            description=content.description,
            music_url=content.music_url,
            hq_music_url=content.hq_music_url or content.music_url,
            thumb_media_id=content.thumb_media_id,
        )
    if content.reply_type == t.NEWS:
        return Reply.news(content.articles)
    return Reply.transfer_customer_service(content.kf_account)


def custom_payloads(reply: Reply) -> list[dict]:
    """The customer-service message bodies (without ``touser``) that carry ``reply``; news goes one article each."""
    f = reply.fields
    if reply.msg_type == "text":
        return [{"msgtype": "text", "text": {"content": f["content"]}}]
    if reply.msg_type in ("image", "voice"):
        return [{"msgtype": reply.msg_type, reply.msg_type: {"media_id": f["media_id"]}}]
    if reply.msg_type == "video":
        return [
            {
                "msgtype": "video",
                "video": {"media_id": f["media_id"], "title": f.get("title", ""), "description": f.get("description", "")},
            }
        ]
    if reply.msg_type == "music":
        return [
            {
                "msgtype": "music",
                "music": {
                    "title": f.get("title", ""),
                    "description": f.get("description", ""),
                    "musicurl": f.get("music_url", ""),
                    "hqmusicurl": f.get("hq_music_url", ""),
                    "thumb_media_id": f.get("thumb_media_id", ""),
                },
            }
        ]
    if reply.msg_type == "news":
        return [
            {
                "msgtype": "news",
                "news": {
                    "articles": [
                        {
                            "title": a.get("title", ""),
                            "description": a.get("description", ""),
                            "url": a.get("url", ""),
                            "picurl": a.get("picurl", ""),
                        }
                    ]
                },
            }
            for a in f["articles"]
        ]
    return []

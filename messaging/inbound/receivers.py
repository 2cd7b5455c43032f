"""Effects of inbound messages that belong to the layers below inbound (followers and media_assets cannot import messaging)."""

from followers.receivers import follower_event
from media_assets.services.publish import publish_job_finished
from media_assets.services.received import received_media_record

from .effects import effect_register
from .models import InboundMessage


def follower_media_keep(inbound: InboundMessage) -> None:
    """An image, voice or video from a follower: keep the file (downloaded by a task) with the message."""
    media = received_media_record(
        account=inbound.account,
        msg_type=inbound.msg_type,
        media_id=str((inbound.payload or {}).get("MediaId") or ""),
        sent_at=inbound.create_time,
    )
    if media is not None and inbound.received_media_id != media.pk:
        InboundMessage.objects.filter(pk=inbound.pk).update(received_media=media)
        inbound.received_media = media


effect_register(name="followers.event", run=follower_event, order=10)
effect_register(name="media_assets.follower_media", run=follower_media_keep, order=15)


def _publish_job_finished(inbound):
    if (inbound.event or "").upper() in ("PUBLISHJOBFINISH", "FREEPUBLISHJOBFINISH"):
        publish_job_finished(account=inbound.account, data=inbound.payload)


effect_register(name="media_assets.publish_job_finished", run=_publish_job_finished, order=45)

"""Effects of inbound messages that belong to the layers below inbound (followers, media_assets cannot import messaging)."""

from followers.receivers import follower_event
from media_assets.services.publish import publish_job_finished

from .effects import effect_register

effect_register(name="followers.event", run=follower_event, order=10)


def _publish_job_finished(inbound):
    if (inbound.event or "").upper() in ("PUBLISHJOBFINISH", "FREEPUBLISHJOBFINISH"):
        publish_job_finished(account=inbound.account, data=inbound.payload)


effect_register(name="media_assets.publish_job_finished", run=_publish_job_finished, order=45)

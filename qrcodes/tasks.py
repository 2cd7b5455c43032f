"""Celery tasks of QR codes: ids in, one service call."""

from celery import shared_task

from wechat.errors import WeChatError
from wechat.retry import SYNC, is_last_attempt, retry_or_give_up

from .services import scenes


@shared_task(name="qrcodes.tasks.qr_scene_sync", bind=True, max_retries=SYNC.attempts - 1)
def qr_scene_sync(self, scene_id: int):
    """Create a scene's code on WeChat; transient errors are retried, the last try records the failure on the row."""
    try:
        scene = scenes.scene_sync(scene_id=scene_id, last_attempt=is_last_attempt(self, policy=SYNC))
    except WeChatError as exc:
        retry_or_give_up(self, exc, policy=SYNC)
        return {"errcode": exc.errcode}
    return scene.ticket if scene else None

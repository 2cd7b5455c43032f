"""Demo media library for the sandbox account: a few image materials (real PNGs drawn by Pillow) and a rule
that replies with one of them."""

import logging

from django.core.files.base import ContentFile
from django.db import transaction

from media_assets.models import Material
from media_assets.services import materials
from messaging.autoreply.models import AutoReplyRule
from messaging.autoreply.services import rule_create
from wechat.errors import WeChatError

from ..images import png

logger = logging.getLogger(__name__)

DEMO_IMAGES = (
    ("demo-welcome.png", "#07c160", "Welcome"),
    ("demo-sale.png", "#fa5151", "Sale"),
    ("demo-event.png", "#10aeff", "Event"),
    ("demo-qr.png", "#576b95", "QR"),
)
PICTURE_RULE = "图片 Picture"


def sandbox_media_seed(*, account, app) -> None:
    """Upload the demo images as permanent materials (idempotent by file name) and a keyword rule that sends one."""
    for name, colour, label in DEMO_IMAGES:
        if Material.objects.filter(account=account, name=name).exists():
            continue
        upload = ContentFile(png(width=320, height=200, color=colour, label=label), name=name)
        with transaction.atomic():
            material = materials.material_create(account=account, kind="image", upload=upload, title=label)
        try:
            materials.material_sync(material_id=material.pk)
        except WeChatError as exc:
            logger.warning("media_assets.seed_failed", extra={"appid": account.appid, "errcode": exc.errcode})
    first = Material.objects.filter(account=account, name=DEMO_IMAGES[0][0]).exclude(media_id="").first()
    if first is None or AutoReplyRule.objects.filter(account=account, name=PICTURE_RULE).exists():
        return
    rule_create(
        account=account,
        name=PICTURE_RULE,
        trigger=AutoReplyRule.Trigger.KEYWORD,
        keywords="图片\npicture",
        match_type=AutoReplyRule.MatchType.EXACT,
        replies=[{"reply_type": "image", "media_id": first.media_id}],
    )

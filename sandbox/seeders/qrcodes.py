"""Demo QR codes for the sandbox account: two scenes and a channel campaign, created on WeChat like an operator's."""

import logging

from followers.models import Tag
from messaging.autoreply.models import AutoReplyRule
from qrcodes.models import QRCampaign, QRKind, QRScene
from qrcodes.services.campaigns import campaign_create
from qrcodes.services.scenes import scene_create, scene_sync
from wechat.errors import WeChatError

logger = logging.getLogger(__name__)


def sandbox_qrcodes_seed(*, account, app) -> None:
    """Idempotent: scenes already there are left alone; codes not yet on WeChat are created now, not by a worker."""
    # The demo tags (seed_tags): 100 the VIP customers, 102 the newest followers.
    vip = Tag.objects.filter(account=account, wechat_id=100).first()
    event = Tag.objects.filter(account=account, wechat_id=102).first()
    welcome = AutoReplyRule.objects.filter(account=account, trigger=AutoReplyRule.Trigger.KEYWORD).first()
    if not QRScene.objects.filter(account=account, scene_key="1001").exists():
        scene_create(account=account, name="门店 A 收银台", kind=QRKind.TEMPORARY, scene_id=1001, expire_seconds=7 * 86400)
    if not QRScene.objects.filter(account=account, scene_key="vip_poster").exists():
        scene_create(
            account=account,
            name="VIP 海报",
            kind=QRKind.PERMANENT,
            scene_str="vip_poster",
            tags=[vip] if vip else [],
            reply_rule=welcome,
        )
    if not QRCampaign.objects.filter(account=account, name="春季推广").exists():
        campaign_create(
            account=account,
            name="春季推广",
            count=3,
            scene_prefix="spring_",
            name_pattern="春季推广 门店 {n}",
            tags=[event] if event else [],
        )
    for scene_id in QRScene.objects.filter(account=account, url="").values_list("pk", flat=True):
        try:
            scene_sync(scene_id=scene_id)
        except WeChatError as exc:
            logger.warning("qrcodes.seed_failed", extra={"appid": account.appid, "errcode": exc.errcode})

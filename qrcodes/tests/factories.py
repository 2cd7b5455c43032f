import factory
from django.utils import timezone

from accounts.tests.factories import OfficialAccountFactory
from qrcodes.models import QRCampaign, QRKind, QRScan, QRScene
from wechat.models import SyncStatus


class QRSceneFactory(factory.django.DjangoModelFactory):
    """A scene as stored after WeChat created it (tests that create through the sandbox use the services)."""

    class Meta:
        model = QRScene

    account = factory.SubFactory(OfficialAccountFactory)
    name = factory.Sequence(lambda n: f"门店 {n}")
    kind = QRKind.PERMANENT
    scene_id = None
    scene_str = factory.Sequence(lambda n: f"store_{n}")
    scene_key = factory.LazyAttribute(lambda o: str(o.scene_id) if o.scene_id is not None else o.scene_str)
    ticket = factory.Sequence(lambda n: f"ticket-{n}")
    url = factory.Sequence(lambda n: f"http://weixin.qq.com/q/test{n}")
    sync_status = SyncStatus.SYNCED


class QRCampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QRCampaign

    account = factory.SubFactory(OfficialAccountFactory)
    name = factory.Sequence(lambda n: f"活动 {n}")
    scene_prefix = factory.Sequence(lambda n: f"campaign{n}_")


class QRScanFactory(factory.django.DjangoModelFactory):
    """A scan as the inbound effect records it; ``inbound`` is the follower's SCAN or subscribe event."""

    class Meta:
        model = QRScan

    scene = factory.SubFactory(QRSceneFactory)
    account = factory.SelfAttribute("scene.account")
    openid = factory.Sequence(lambda n: f"oScanner{n:010d}")
    kind = QRScan.Kind.SCAN
    scanned_at = factory.LazyFunction(timezone.now)

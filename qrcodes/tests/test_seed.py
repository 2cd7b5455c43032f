from django.core.management import call_command

from qrcodes.models import QRCampaign, QRScene
from sandbox.models import SandboxQRCode
from wechat.models import SyncStatus


def test_the_demo_account_gets_codes_and_a_campaign_created_on_wechat_idempotently(db):
    call_command("sandbox_seed")
    call_command("sandbox_seed")

    assert QRScene.objects.count() == 5 == SandboxQRCode.objects.count()
    assert set(QRScene.objects.values_list("sync_status", flat=True)) == {SyncStatus.SYNCED}
    campaign = QRCampaign.objects.get()
    assert sorted(campaign.scenes.values_list("scene_key", flat=True)) == ["spring_1", "spring_2", "spring_3"]
    assert [t.wechat_id for t in campaign.tags.all()] == [102]
    assert [t.wechat_id for t in QRScene.objects.get(scene_key="vip_poster").tags.all()] == [100]

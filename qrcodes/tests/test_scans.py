"""Scans from the recorded inbound samples: counted per scene and campaign, acted on exactly once."""

from datetime import date

import pytest
from django.utils import timezone, translation

from followers.models import Follower, FollowerOperation
from followers.tests.factories import FollowerFactory, TagFactory
from messaging.autoreply.services import rule_create
from messaging.inbound.models import InboundMessage
from messaging.kefu.models import OutboundMessage
from qrcodes import selectors
from qrcodes.charts import scans_chart
from qrcodes.models import QRKind, QRScan
from qrcodes.services.scans import scan_record
from qrcodes.tests.factories import QRCampaignFactory
from sandbox.models import SandboxCall, SandboxDelivery, SandboxFollower
from sandbox.tests.factories import SandboxFollowerFactory, SandboxTagFactory
from wechat.api.endpoints import Endpoint
from wechat.models import SyncStatus

from .factories import QRSceneFactory

DAY = date(1973, 11, 29)  # CreateTime 123456789 of the samples


@pytest.fixture
def scenes(account):
    return {
        "123123": QRSceneFactory(account=account, scene_id=123123, scene_str=""),
        "SCENE_VALUE": QRSceneFactory(account=account, scene_str="SCENE_VALUE"),
    }


@pytest.fixture
def vip(account, sandbox_app):
    """A tag on WeChat and here, and WeChat's record of the samples' followers."""
    SandboxTagFactory(app=sandbox_app, tagid=100, name="VIP")
    for openid in ("FromUser", "fromUser"):
        SandboxFollowerFactory(app=sandbox_app, openid=openid)
    return TagFactory(account=account, name="VIP", wechat_id=100, sync_status=SyncStatus.SYNCED)


def test_scan_statistics_from_the_inbound_samples(account, deliver, scenes, settings):
    settings.TIME_ZONE = "UTC"
    FollowerFactory(account=account, openid="FromUser")
    deliver("event_scan.xml")
    deliver("event_scan_numeric_scene.xml")
    Follower.objects.filter(openid="FromUser").update(subscribed=False)
    deliver("event_subscribe_qrscene.xml")
    deliver("event_subscribe_qrscene_easywechat.xml")
    deliver("event_subscribe.xml", **{"[FromUser]": "[oPlain]"})  # no scene: not a scan
    deliver("event_scan.xml", **{"SCENE_VALUE": "unknown_scene", "[FromUser]": "[oOther]"})  # not one of ours

    numeric, string = scenes["123123"], scenes["SCENE_VALUE"]
    assert selectors.scene_totals(scene=numeric) == selectors.ScanTotals(new=2, existing=1, people=2)
    assert selectors.scene_totals(scene=string) == selectors.ScanTotals(new=0, existing=1, people=1)
    daily = selectors.scene_daily(scene=numeric, days=3, today=DAY)
    assert [(d.day, d.new, d.existing) for d in daily] == [
        (date(1973, 11, 27), 0, 0),
        (date(1973, 11, 28), 0, 0),
        (DAY, 2, 1),
    ]
    assert QRScan.objects.count() == 4
    with translation.override("en"):
        chart = scans_chart(daily)
    assert chart.startswith("<svg") and "1973-11-29: new followers 2, existing followers 1" in chart


def test_campaign_counts_add_up_its_scenes(account, deliver, settings):
    settings.TIME_ZONE = "UTC"
    campaign = QRCampaignFactory(account=account, name="春季", scene_prefix="spring_", kind=QRKind.PERMANENT)
    QRSceneFactory(account=account, campaign=campaign, scene_str="SCENE_VALUE")
    QRSceneFactory(account=account, campaign=campaign, scene_id=123123, scene_str="")
    deliver("event_scan.xml")
    deliver("event_subscribe_qrscene_easywechat.xml")

    assert selectors.campaign_totals(campaign=campaign) == selectors.ScanTotals(new=1, existing=1, people=2)
    assert selectors.campaign_daily(campaign=campaign, days=1, today=DAY)[0].new == 1


def test_a_follow_through_a_code_tags_the_new_follower(account, deliver, scenes, vip):
    scenes["123123"].tags.add(vip)

    deliver("event_subscribe_qrscene.xml")

    follower = Follower.objects.get(openid="FromUser")
    assert list(follower.tags.all()) == [vip]
    assert SandboxFollower.objects.get(openid="FromUser").tagids == [100]
    scan = QRScan.objects.get()
    assert (scan.kind, scan.tags_added) == (QRScan.Kind.SUBSCRIBE, ["VIP"])


def test_action_on_scan_tags_the_follower_exactly_once_on_a_retried_event(account, deliver, scenes, vip):
    FollowerFactory(account=account, openid="FromUser")
    scenes["SCENE_VALUE"].tags.add(vip)

    deliver("event_scan.xml")
    deliver("event_scan.xml")  # WeChat's retry: same FromUserName, CreateTime, Event and EventKey
    scan_record(inbound=InboundMessage.objects.get())  # the effect run again, as after a failure elsewhere

    assert InboundMessage.objects.count() == 1 and QRScan.objects.count() == 1
    assert FollowerOperation.objects.filter(kind="tag").count() == 1
    assert SandboxCall.objects.filter(api=Endpoint.TAGS_BATCHTAGGING.path).count() == 1
    assert list(Follower.objects.get(openid="FromUser").tags.all()) == [vip]


def test_a_follower_already_tagged_is_not_tagged_again_on_the_next_scan(account, deliver, scenes, vip):
    FollowerFactory(account=account, openid="FromUser").tags.add(vip)
    scenes["SCENE_VALUE"].tags.add(vip)

    deliver("event_scan.xml")

    assert QRScan.objects.get().tags_added == []
    assert not FollowerOperation.objects.exists()


def test_a_tag_not_on_wechat_is_skipped_with_a_note(account, deliver, scenes):
    FollowerFactory(account=account, openid="FromUser")
    scenes["SCENE_VALUE"].tags.add(TagFactory(account=account, name="新"))

    deliver("event_scan.xml")

    assert QRScan.objects.get().note.startswith("新: ")  # the reason, in the language of the callback
    assert not FollowerOperation.objects.exists()


def test_a_scene_reply_is_sent_once_as_customer_service_when_no_rule_answered_the_scan(account, deliver, scenes, sandbox_app):
    FollowerFactory(account=account, openid="FromUser")
    SandboxFollowerFactory(app=sandbox_app, openid="FromUser", last_interaction_at=timezone.now())
    rule = rule_create(
        account=account, name="门店", trigger="keyword", keywords="门店", replies=[{"reply_type": "text", "text": "欢迎光临"}]
    )
    scenes["SCENE_VALUE"].reply_rule = rule
    scenes["SCENE_VALUE"].save()

    first = deliver("event_scan.xml")
    retry = deliver("event_scan.xml")

    assert first.content == retry.content == b"success"  # no passive reply
    sent = SandboxDelivery.objects.filter(channel="custom")
    assert [d.payload["text"]["content"] for d in sent] == ["欢迎光临"]
    assert OutboundMessage.objects.get().status == OutboundMessage.Status.SENT
    assert QRScan.objects.get().reply == QRScan.Reply.SENT


@pytest.mark.parametrize("rule_is_the_scenes", [True, False])
def test_a_scan_answered_passively_by_a_qr_scan_rule_is_not_answered_again(account, deliver, scenes, rule_is_the_scenes):
    FollowerFactory(account=account, openid="FromUser")
    scan_rule = rule_create(
        account=account,
        name="扫码",
        trigger="scan",
        event_key="SCENE_VALUE",
        replies=[{"reply_type": "text", "text": "扫码成功"}],
    )
    other = rule_create(
        account=account, name="其他", trigger="keyword", keywords="x", replies=[{"reply_type": "text", "text": "x"}]
    )
    scenes["SCENE_VALUE"].reply_rule = scan_rule if rule_is_the_scenes else other
    scenes["SCENE_VALUE"].save()

    reply = deliver("event_scan.xml").content.decode()

    assert "扫码成功" in reply
    assert not SandboxDelivery.objects.filter(channel="custom").exists() and not OutboundMessage.objects.exists()
    assert QRScan.objects.get().reply == QRScan.Reply.PASSIVE


def test_a_campaigns_actions_apply_to_its_scenes(account, deliver, vip):
    FollowerFactory(account=account, openid="FromUser")
    campaign = QRCampaignFactory(account=account, name="春季", scene_prefix="spring_")
    campaign.tags.add(vip)
    QRSceneFactory(account=account, campaign=campaign, scene_str="SCENE_VALUE")

    deliver("event_scan.xml")

    assert QRScan.objects.get().tags_added == ["VIP"]

"""Inbound events and messages update followers: posted to the real callback, side effects run after commit."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils import translation

from conftest import sample_text
from followers.models import Follower, Tag
from followers.tests.factories import FollowerFactory
from messaging.inbound.tests.callback_client import post_callback
from sandbox.models import SandboxCall, SandboxFollower
from sandbox.tests.factories import SandboxFaultFactory, SandboxFollowerFactory, SandboxTagFactory
from wechat.api.endpoints import Endpoint


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


@pytest.fixture
def deliver(client, account, django_capture_on_commit_callbacks):
    """POST a sample (optionally with fields replaced) and run everything queued after commit."""

    def post(name: str, **replace):
        xml = sample_text(f"inbound/{name}")
        for old, new in replace.items():
            xml = xml.replace(old, new)
        with django_capture_on_commit_callbacks(execute=True):
            response = post_callback(client, account, xml)
        assert response.status_code == 200, response.content
        return response

    return post


@pytest.fixture
def wechat_user(sandbox_app):
    """WeChat's record of the sample's follower 'FromUser', for the user/info fetch after a follow."""
    SandboxTagFactory(app=sandbox_app, tagid=100, name="VIP")
    return SandboxFollowerFactory(
        app=sandbox_app,
        openid="FromUser",
        unionid="oUnion000000000000000000001",
        subscribe_time=123456789,
        subscribe_scene="ADD_SCENE_QR_CODE",
        qr_scene=123123,
        language="en",
        remark="老客户",
        tagids=[100],
    )


def test_subscribe_creates_the_follower_then_fills_it_from_user_info(account, deliver, wechat_user):
    deliver("event_subscribe.xml")

    follower = Follower.objects.get(account=account, openid="FromUser")
    assert follower.subscribed and follower.unsubscribed_at is None
    assert follower.subscribe_time == at(123456789)
    assert follower.last_interaction_at == at(123456789)
    # Filled by the user/info fetch queued after the event.
    assert (follower.language, follower.unionid, follower.remark) == ("en", "oUnion000000000000000000001", "老客户")
    assert follower.subscribe_scene == "ADD_SCENE_QR_CODE" and follower.synced_at is not None
    assert [t.wechat_id for t in follower.tags.all()] == [100]
    assert SandboxCall.objects.filter(api=Endpoint.USER_INFO.path, errcode=0).count() == 1


def test_subscribe_through_a_qr_code_keeps_the_scene(account, deliver, sandbox_app):
    deliver("event_subscribe_qrscene.xml")

    follower = Follower.objects.get(account=account, openid="FromUser")
    assert (follower.qr_scene, follower.subscribe_scene) == ("123123", "ADD_SCENE_QR_CODE")
    # WeChat does not know this user: the fetch is refused (40003) and the event's data stays.
    assert SandboxCall.objects.filter(api=Endpoint.USER_INFO.path, errcode=40003).count() == 1


def test_resubscribe_reactivates_the_follower(account, deliver):
    FollowerFactory(account=account, openid="FromUser", subscribed=False, unsubscribed_at=at(100), subscribe_time=at(50))

    deliver("event_subscribe.xml", **{"123456789": "123456999"})

    follower = Follower.objects.get(account=account, openid="FromUser")
    assert follower.subscribed and follower.unsubscribed_at is None
    assert follower.subscribe_time == at(123456999)
    assert Follower.objects.filter(account=account).count() == 1


def test_unsubscribe_marks_the_follower(account, deliver):
    FollowerFactory(account=account, openid="FromUser", subscribe_time=at(50))

    deliver("event_unsubscribe.xml")

    follower = Follower.objects.get(account=account, openid="FromUser")
    assert not follower.subscribed
    assert follower.unsubscribed_at == at(123456789)
    # Unfollowing is not an interaction, and nothing is asked of WeChat.
    assert follower.last_interaction_at is None
    assert not SandboxCall.objects.exists()


def test_a_retried_unsubscribe_callback_is_applied_once(account, deliver):
    FollowerFactory(account=account, openid="FromUser")
    deliver("event_unsubscribe.xml")
    Follower.objects.filter(openid="FromUser").update(subscribed=True, unsubscribed_at=None)  # a later follow

    deliver("event_unsubscribe.xml")  # WeChat's retry of the same event

    assert Follower.objects.get(openid="FromUser").subscribed


@pytest.mark.parametrize("sample", ["event_scan.xml", "event_scan_numeric_scene.xml"])
def test_scan_by_a_follower_records_the_interaction_and_keeps_the_scene_they_followed_from(account, deliver, sample):
    FollowerFactory(account=account, openid="FromUser", subscribe_scene="ADD_SCENE_QR_CODE", qr_scene="store_9")

    deliver(sample)

    follower = Follower.objects.get(openid="FromUser")
    assert (follower.subscribe_scene, follower.qr_scene) == ("ADD_SCENE_QR_CODE", "store_9")
    assert follower.last_interaction_at == at(123456789)


def test_a_follow_through_a_code_keeps_its_scene_through_the_user_info_fetch(account, deliver, wechat_user):
    # WeChat's user/info may come back without the scene (qr_scene 0, no qr_scene_str): the event's scene stays.
    SandboxFollower.objects.filter(pk=wechat_user.pk).update(qr_scene=0, qr_scene_str="")

    deliver("event_subscribe_qrscene.xml")

    follower = Follower.objects.get(account=account, openid="FromUser")
    assert (follower.subscribe_scene, follower.qr_scene) == ("ADD_SCENE_QR_CODE", "123123")
    assert follower.synced_at is not None and follower.language == "en"  # the fetch did run
    with translation.override("zh-hans"):
        assert follower.get_subscribe_scene_display() == "扫描二维码"


def test_a_follow_without_a_scene_is_not_recorded_as_a_qr_code_follow(account, deliver):
    FollowerFactory(account=account, openid="FromUser", subscribed=False, subscribe_scene="ADD_SCENE_QR_CODE", qr_scene="1")

    deliver("event_subscribe.xml")

    follower = Follower.objects.get(account=account, openid="FromUser")
    assert (follower.subscribed, follower.subscribe_scene, follower.qr_scene) == (True, "", "")


def test_location_event_is_stored_without_calling_wechat(account, deliver):
    FollowerFactory(account=account, openid="fromUser")

    deliver("event_location.xml")

    follower = Follower.objects.get(openid="fromUser")
    assert (follower.latitude, follower.longitude) == (Decimal("23.137466"), Decimal("113.352425"))
    assert follower.location_precision == pytest.approx(119.38504)
    assert follower.location_at == at(123456789)
    assert follower.last_interaction_at is None  # a location report does not open the 48-hour window
    assert not SandboxCall.objects.exists()


def test_text_message_updates_last_interaction(account, deliver):
    deliver("msg_text.xml")

    follower = Follower.objects.get(account=account, openid="fromUser")
    assert follower.last_interaction_at == at(1348831860)
    assert not SandboxCall.objects.exists()


@pytest.mark.parametrize("sample", ["event_click.xml", "event_scancode_push.xml", "event_scancode_waitmsg.xml"])
def test_menu_interactions_update_last_interaction(account, deliver, sample):
    deliver(sample)

    follower = Follower.objects.get(account=account)
    assert follower.last_interaction_at is not None


def test_view_and_job_events_touch_no_follower(account, deliver):
    deliver("event_view.xml")
    deliver("event_masssendjobfinish.xml")

    assert not Follower.objects.exists()


def test_an_older_message_does_not_move_last_interaction_back(account, deliver):
    FollowerFactory(account=account, openid="fromUser", last_interaction_at=at(1400000000))

    deliver("msg_text.xml")

    assert Follower.objects.get(openid="fromUser").last_interaction_at == at(1400000000)


def test_user_info_quota_reached_keeps_the_follow(account, deliver, wechat_user, sandbox_app):
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.USER_INFO.path, kind="errcode", value=45009)

    deliver("event_subscribe.xml")

    follower = Follower.objects.get(openid="FromUser")
    assert follower.subscribed and follower.language == "" and follower.synced_at is None
    assert SandboxCall.objects.filter(api=Endpoint.USER_INFO.path, errcode=45009).count() == 1
    assert not Tag.objects.exists()


def test_user_info_busy_is_retried(account, deliver, wechat_user, sandbox_app):
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.USER_INFO.path, kind="errcode", value=-1, remaining=1)

    from celery.exceptions import Retry

    # Eager tasks surface the retry; a worker would run the task again after the countdown.
    with pytest.raises(Retry):
        deliver("event_subscribe.xml")
    from followers.tasks import follower_info_fetch

    follower_info_fetch.delay(account.pk, "FromUser")
    assert Follower.objects.get(openid="FromUser").language == "en"

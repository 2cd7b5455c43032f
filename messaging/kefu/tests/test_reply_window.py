"""The one 48-hour window: the inbox list, the conversation page and the reply guard read the same fact."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from followers.models import Follower
from followers.tests.factories import FollowerFactory
from messaging.kefu import selectors as kefu_selectors
from messaging.kefu.tests.factories import ConversationFactory
from sandbox import phone

OPENID = "oFollower000000000000000001"


def windows(admin_client, account):
    inbox = admin_client.get(reverse("admin:kefu_conversation_changelist"))
    (row,) = inbox.context["rows"]
    thread = admin_client.get(reverse("admin:kefu_conversation_change", args=[row["conversation"].pk]))
    guard = kefu_selectors.reply_window(account=account, openid=OPENID)
    return row["window"], thread.context["window"], guard


@pytest.mark.parametrize("event", ["SCANCODE_PUSH", "Click", "subscribe"])
def test_inbox_thread_and_reply_guard_agree_with_the_follower_page(
    admin_client, account, sandbox_app, event, django_capture_on_commit_callbacks
):
    # WeChat spells some events in upper case; an interaction counts whatever its case.
    with django_capture_on_commit_callbacks(execute=True):
        phone.push(sandbox_app, {"FromUserName": OPENID, "MsgType": "event", "Event": event, "EventKey": "k"})
    follower_fact = Follower.objects.get(account=account, openid=OPENID).last_interaction_at
    assert follower_fact is not None
    inbox, thread, guard = windows(admin_client, account)
    assert inbox.last_interaction_at == thread.last_interaction_at == guard.last_interaction_at == follower_fact
    assert inbox.is_open and thread.is_open and guard.is_open
    assert thread.label == inbox.label


def test_the_window_is_the_followers_last_interaction(admin_client, account):
    """A follower whose last interaction is known (e.g. kept from before the messages were pruned) can be answered."""
    at = timezone.now() - timedelta(hours=3)
    FollowerFactory(account=account, openid=OPENID, last_interaction_at=at)
    ConversationFactory(account=account, openid=OPENID, last_message_at=at)
    inbox, thread, guard = windows(admin_client, account)
    assert inbox.last_interaction_at == thread.last_interaction_at == guard.last_interaction_at == at
    assert inbox.is_open and guard.hours_left == 44


def test_the_window_closes_48_hours_after_the_last_interaction(admin_client, account):
    at = timezone.now() - timedelta(hours=48, minutes=1)
    FollowerFactory(account=account, openid=OPENID, last_interaction_at=at)
    ConversationFactory(account=account, openid=OPENID, last_message_at=at)
    inbox, thread, guard = windows(admin_client, account)
    assert not inbox.is_open and not thread.is_open and not guard.is_open
    assert "more than 48 hours ago" in guard.explanation

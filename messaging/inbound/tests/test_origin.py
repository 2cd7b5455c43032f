"""Follower messages and WeChat's system events arrive through one callback; counts, the log and threads keep them apart."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from conftest import sample_text
from messaging.inbound import selectors
from messaging.inbound.models import InboundMessage
from messaging.kefu import selectors as kefu_selectors
from sandbox import phone

from .callback_client import post_callback

FOLLOWER = "oia2TjuEGTNoeX76QEjQNrcURxG8"  # the follower of the TEMPLATESENDJOBFINISH sample


@pytest.fixture
def mixed_log(client, account, sandbox_app):
    """Two texts and a follow from a follower, then WeChat's results of a template and a mass send."""
    phone.follower_sends(sandbox_app, FOLLOWER, {"MsgType": "event", "Event": "subscribe", "EventKey": ""})
    phone.follower_sends(sandbox_app, FOLLOWER, {"MsgType": "text", "Content": "你好"})
    phone.follower_sends(sandbox_app, FOLLOWER, {"MsgType": "text", "Content": "订单 1024"})
    for name in ("event_templatesendjobfinish_success.xml", "event_masssendjobfinish.xml"):
        assert post_callback(client, account, sample_text(f"inbound/{name}")).status_code == 200
    assert InboundMessage.objects.filter(account=account).count() == 5
    return account


def test_messages_today_counts_only_what_followers_sent(mixed_log):
    day_start = timezone.now() - timedelta(hours=1)
    assert selectors.follower_message_count(account=mixed_log, since=day_start) == 2


def test_each_row_has_exactly_one_origin(mixed_log):
    by_origin = {
        origin: sorted(InboundMessage.objects.filter(selectors.origin_filter(origin)).values_list("event", flat=True))
        for origin in selectors.Origin.values
    }
    assert by_origin == {
        "message": ["", ""],
        "follower_event": ["subscribe"],
        "system_event": ["MASSSENDJOBFINISH", "TEMPLATESENDJOBFINISH"],
    }


def test_message_log_shows_follower_messages_unless_asked_for_system_events(client, mixed_log):
    client.force_login(User.objects.create_superuser("boss", "boss@example.com", "pw"))
    url = reverse("admin:inbound_inboundmessage_changelist")
    default = client.get(url)
    assert default.context["cl"].result_count == 2
    assert {m.msg_type for m in default.context["cl"].result_list} == {"text"}
    system = client.get(url, {"origin": "system_event"}).context["cl"].result_list
    assert sorted(m.event for m in system) == ["MASSSENDJOBFINISH", "TEMPLATESENDJOBFINISH"]
    assert client.get(url, {"origin": "all"}).context["cl"].result_count == 5
    assert client.get(url, {"origin": "nonsense"}).context["cl"].result_count == 2


def test_the_follower_thread_never_shows_send_results(mixed_log):
    for events in ("thread", "all"):
        thread = kefu_selectors.follower_thread(account=mixed_log, openid=FOLLOWER, events=events)
        assert sorted(i.inbound.event or i.inbound.msg_type for i in thread if i.inbound) == ["subscribe", "text", "text"]

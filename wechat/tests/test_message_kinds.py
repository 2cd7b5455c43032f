from datetime import timedelta

import pytest

from wechat.message_kinds import CUSTOMER_SERVICE_WINDOW, INTERACTION_EVENTS, is_follower_message, is_interaction


@pytest.mark.parametrize("msg_type", ["text", "image", "voice", "video", "shortvideo", "location", "link", "TEXT"])
def test_what_a_follower_sends_is_a_follower_message(msg_type):
    assert is_follower_message(msg_type)


@pytest.mark.parametrize("msg_type", ["event", "", None, "miniprogrampage"])
def test_events_and_unknown_types_are_not_follower_messages(msg_type):
    assert not is_follower_message(msg_type)


@pytest.mark.parametrize("event", ["subscribe", "CLICK", "click", "SCAN", "scan", "scancode_push", "scancode_waitmsg"])
def test_follows_clicks_and_scans_are_interactions_in_any_case(event):
    assert is_interaction(msg_type="event", event=event)


@pytest.mark.parametrize("event", ["unsubscribe", "VIEW", "LOCATION", "MASSSENDJOBFINISH", "TEMPLATESENDJOBFINISH", ""])
def test_other_events_are_not_interactions(event):
    assert not is_interaction(msg_type="event", event=event)


def test_a_follower_message_is_an_interaction_whatever_its_event_field():
    assert is_interaction(msg_type="text", event="")


def test_interaction_events_are_stored_lower_case():
    assert all(event == event.lower() for event in INTERACTION_EVENTS)


def test_the_customer_service_window_is_48_hours():
    assert timedelta(hours=48) == CUSTOMER_SERVICE_WINDOW

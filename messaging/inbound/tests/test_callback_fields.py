"""Bodies that parse but cannot be stored as they are: 400 and nothing written, never a 500 (PostgreSQL too)."""

import pytest

from conftest import sample_text
from messaging.inbound.models import InboundMessage
from messaging.inbound.services import InboundRejected, inbound_receive
from messaging.inbound.tests.callback_client import post_callback

MODES = ["plain", "compatible", "safe"]
TEXT = sample_text("inbound/msg_text.xml")
EVENT = sample_text("inbound/event_subscribe_qrscene.xml")


@pytest.fixture
def account_in(make_account):
    return lambda mode: make_account(mode=mode)


def assert_refused(response):
    assert response.status_code == 400, response.content
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize("mode", MODES)
def test_xml_nested_thousands_of_levels_is_400(client, account_in, mode):
    deep = "<a>" * 2000 + "x" + "</a>" * 2000
    assert_refused(post_callback(client, account_in(mode), TEXT.replace("<![CDATA[this is a test]]>", deep)))


def test_xml_nested_just_past_the_limit_is_400(client, account):
    deep = "<a>" * 8 + "x" + "</a>" * 8
    assert_refused(post_callback(client, account, TEXT.replace("<![CDATA[this is a test]]>", deep)))


@pytest.mark.parametrize("mode", MODES)
def test_msgid_over_700_characters_is_400(client, account_in, mode):
    assert_refused(post_callback(client, account_in(mode), TEXT.replace("1234567890123456", "9" * 701)))


def test_msgid_longer_than_its_column_is_400_not_cut(client, account):
    assert_refused(post_callback(client, account, TEXT.replace("1234567890123456", "1" * 33)))


def test_openid_longer_than_its_column_is_400_not_cut(client, account):
    assert_refused(post_callback(client, account, TEXT.replace("fromUser", "o" * 65)))


def test_event_key_longer_than_its_column_is_400(client, account):
    assert_refused(post_callback(client, account, EVENT.replace("qrscene_123123", "qrscene_" + "1" * 600)))


def test_msg_type_longer_than_its_column_is_400(client, account):
    assert_refused(post_callback(client, account, TEXT.replace("<![CDATA[text]]>", "<![CDATA[" + "t" * 33 + "]]>")))


def test_event_name_longer_than_its_column_is_400(client, account):
    assert_refused(post_callback(client, account, EVENT.replace("<![CDATA[subscribe]]>", "<![CDATA[" + "s" * 65 + "]]>")))


def test_publish_id_too_long_for_the_dedupe_key_is_400(client, account):
    xml = (
        "<xml><ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName><FromUserName><![CDATA[oV5CrjpxgaGXNHIQigzNlgLTnwic]]>"
        "</FromUserName><CreateTime>1481013459</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[PUBLISHJOBFINISH]]></Event><PublishEventInfo><publish_id>" + "2" * 800 + "</publish_id>"
        "<publish_status>0</publish_status></PublishEventInfo></xml>"
    )
    assert_refused(post_callback(client, account, xml))


@pytest.mark.parametrize("mode", MODES)
def test_duplicated_msg_type_is_400(client, account_in, mode):
    xml = TEXT.replace("<MsgType><![CDATA[text]]></MsgType>", "<MsgType>text</MsgType><MsgType>image</MsgType>")
    assert_refused(post_callback(client, account_in(mode), xml))


def test_nested_msg_type_is_400(client, account):
    xml = TEXT.replace("<MsgType><![CDATA[text]]></MsgType>", "<MsgType><a>text</a></MsgType>")
    assert_refused(post_callback(client, account, xml))


def test_msg_type_with_an_attribute_is_400(client, account):
    xml = TEXT.replace("<MsgType><![CDATA[text]]></MsgType>", '<MsgType kind="x">text</MsgType>')
    assert_refused(post_callback(client, account, xml))


def test_duplicated_event_key_is_400(client, account):
    xml = EVENT.replace("<EventKey>", "<EventKey>a</EventKey><EventKey>")
    assert_refused(post_callback(client, account, xml))


def test_duplicated_from_user_is_400(client, account):
    xml = TEXT.replace("<FromUserName>", "<FromUserName>oOther</FromUserName><FromUserName>")
    assert_refused(post_callback(client, account, xml))


def test_create_time_that_is_not_unix_seconds_is_400(client, account):
    assert_refused(
        post_callback(client, account, TEXT.replace("<CreateTime>1348831860</CreateTime>", "<CreateTime>soon</CreateTime>"))
    )


def test_nul_in_event_key_is_400(client, account):
    assert_refused(post_callback(client, account, EVENT.replace("<![CDATA[qrscene_123123]]>", "qrscene_12&#0;3")))


def test_inbound_receive_refuses_a_nul_in_the_scene_string_and_writes_nothing(account):
    data = {
        "ToUserName": "gh_7f083739789a",
        "FromUserName": "oNul",
        "CreateTime": "1348831860",
        "MsgType": "event",
        "Event": "subscribe",
        "EventKey": "qrscene_a\x00b",
    }
    with pytest.raises(InboundRejected):
        inbound_receive(account=account, data=data, raw_xml="<xml/>")
    assert not InboundMessage.objects.exists()


def test_inbound_receive_refuses_a_nul_in_a_nested_field_and_writes_nothing(account):
    data = {
        "FromUserName": "oNul",
        "CreateTime": "1348831860",
        "MsgType": "event",
        "Event": "scancode_push",
        "EventKey": "scan",
        "ScanCodeInfo": {"ScanType": "qrcode", "ScanResult": "a\x00b"},
    }
    with pytest.raises(InboundRejected):
        inbound_receive(account=account, data=data, raw_xml="<xml/>")
    assert not InboundMessage.objects.exists()


def test_longest_accepted_fields_are_stored_whole(client, account):
    xml = EVENT.replace("[FromUser]", "[" + "o" * 64 + "]").replace("qrscene_123123", "qrscene_" + "1" * 504)
    response = post_callback(client, account, xml)
    assert response.status_code == 200
    row = InboundMessage.objects.get()
    assert row.openid == "o" * 64
    assert row.event_key == "qrscene_" + "1" * 504


def test_the_operator_sees_why_a_body_was_refused(client, account):
    xml = TEXT.replace("<MsgType><![CDATA[text]]></MsgType>", "<MsgType>text</MsgType><MsgType>image</MsgType>")
    response = post_callback(client, account, xml)
    assert response.content == b"<MsgType> appears more than once"

import time
from urllib.parse import urlencode

import pytest

from conftest import SAMPLES, sample_json, sample_text
from messaging.inbound.models import InboundMessage
from messaging.inbound.services import dedupe_key_for
from messaging.inbound.tests.callback_client import post_callback, reply_plaintext, signed_query
from wechat.crypto import encrypt, parse_xml

INBOUND = sorted(p.name for p in (SAMPLES / "inbound").glob("*.xml"))
MODES = ["plain", "compatible", "safe"]

# Fields each sample must keep on its stored row (beyond the raw XML and payload).
EXPECTED = {
    "msg_text.xml": {"msg_type": "text", "content": "this is a test", "msg_id": "1234567890123456"},
    "msg_link.xml": {"msg_type": "link"},
    "msg_unknown_type.xml": {},
    "event_click.xml": {"msg_type": "event", "event": "CLICK"},
    "event_subscribe_qrscene.xml": {"msg_type": "event", "event": "subscribe", "event_key": "qrscene_123123"},
    "event_scan.xml": {"msg_type": "event", "event": "SCAN"},
    "event_templatesendjobfinish_success.xml": {"msg_type": "event", "event": "TEMPLATESENDJOBFINISH", "msg_id": "200163836"},
    "event_masssendjobfinish.xml": {"msg_type": "event", "event": "MASSSENDJOBFINISH"},
}


@pytest.fixture
def accounts_by_mode(make_account):
    return {mode: make_account(appid=f"wx{i:016x}", mode=mode) for i, mode in enumerate(MODES, start=1)}


def test_url_verification_echoes_echostr(client, account, settings):
    vector = sample_json("crypto/plain_signature_vectors.json")["cases"][0]
    # The recorded vector is years old: accept its timestamp in this test only.
    settings.WECHAT_CALLBACK_TIMESTAMP_WINDOW = int(time.time()) - int(vector["timestamp"]) + 60
    query = {
        "signature": vector["signature"],
        "timestamp": vector["timestamp"],
        "nonce": vector["nonce"],
        "echostr": "ECHOSTR_VALUE",
    }
    response = client.get(account.callback_path, query)
    assert response.status_code == 200
    assert response.content == b"ECHOSTR_VALUE"
    assert response["Content-Type"].startswith("text/plain")


def test_url_verification_in_safe_mode_is_plaintext_too(client, make_account):
    account = make_account(mode="safe")
    response = client.get(account.callback_path, {**signed_query(account.token), "echostr": "5927782489442352469"})
    assert response.content == b"5927782489442352469"


def test_url_verification_with_forged_signature_is_403(client, account):
    query = {**signed_query(account.token), "echostr": "x"}
    query["signature"] = query["signature"][:-1] + ("0" if query["signature"][-1] != "0" else "1")
    response = client.get(account.callback_path, query)
    assert response.status_code == 403
    assert b"x" not in response.content


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", INBOUND)
def test_every_inbound_sample_is_stored_in_every_mode(client, accounts_by_mode, name, mode):
    account = accounts_by_mode[mode]
    xml = sample_text(f"inbound/{name}")
    response = post_callback(client, account, xml)
    assert response.status_code == 200, response.content
    assert reply_plaintext(account, response) == "success"
    row = InboundMessage.objects.get(account=account)
    fields = parse_xml(xml, max_bytes=1 << 20)
    assert row.openid == fields["FromUserName"]
    assert row.msg_type == fields["MsgType"].lower()
    assert row.raw_xml.strip() == xml.strip()
    assert row.payload == fields
    assert row.dedupe_key == dedupe_key_for(fields)
    assert row.create_time.timestamp() == int(fields["CreateTime"])
    for field, value in EXPECTED.get(name, {}).items():
        assert getattr(row, field) == value


def test_unknown_message_type_is_logged_and_answered_success(client, account):
    response = post_callback(client, account, sample_text("inbound/msg_unknown_type.xml"))
    assert response.content == b"success"
    assert InboundMessage.objects.filter(account=account).count() == 1


@pytest.mark.parametrize("mode", MODES)
def test_default_text_reply_is_encrypted_in_the_request_mode(client, make_account, mode):
    account = make_account(mode=mode, default_reply_text="欢迎 <b>&</b>")
    response = post_callback(client, account, sample_text("inbound/msg_text.xml"))
    reply = reply_plaintext(account, response)
    if mode != "plain":
        assert "<Encrypt>" in response.content.decode()
    fields = parse_xml(reply, max_bytes=1 << 20)
    assert fields["ToUserName"] == "fromUser"
    assert fields["FromUserName"] == "toUser"
    assert fields["MsgType"] == "text"
    assert fields["Content"] == "欢迎 <b>&</b>"


def test_events_get_no_default_text_reply(client, make_account):
    account = make_account(default_reply_text="hi")
    response = post_callback(client, account, sample_text("inbound/event_click.xml"))
    assert response.content == b"success"


def test_retried_message_returns_the_first_reply_and_is_stored_once(client, make_account, django_capture_on_commit_callbacks):
    account = make_account(default_reply_text="first answer")
    xml = sample_text("inbound/msg_text.xml")
    with django_capture_on_commit_callbacks() as callbacks:
        first = post_callback(client, account, xml)
    account.default_reply_text = "changed meanwhile"
    account.save()
    with django_capture_on_commit_callbacks() as retry_callbacks:
        second = post_callback(client, account, xml)
    assert second.content == first.content
    assert InboundMessage.objects.filter(account=account).count() == 1
    assert len(callbacks) == 1
    assert retry_callbacks == []  # no second side effect


def test_retried_event_is_deduped_but_a_different_event_in_the_same_second_is_not(client, account):
    xml = sample_text("inbound/event_subscribe.xml")
    post_callback(client, account, xml)
    post_callback(client, account, xml)
    assert InboundMessage.objects.filter(account=account).count() == 1
    other = xml.replace("<![CDATA[subscribe]]>", "<![CDATA[unsubscribe]]>")
    post_callback(client, account, other)
    assert InboundMessage.objects.filter(account=account).count() == 2


def test_side_effects_run_once_after_commit(client, account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_callback(client, account, sample_text("inbound/msg_text.xml"))
    row = InboundMessage.objects.get(account=account)
    assert row.handled_at is not None


def test_forged_post_signature_is_403_and_writes_nothing(client, account):
    query = signed_query(account.token)
    query["signature"] = "0" * 40
    response = post_callback(client, account, sample_text("inbound/msg_text.xml"), query=query)
    assert response.status_code == 403
    assert not InboundMessage.objects.exists()


def test_forged_msg_signature_is_403_and_writes_nothing(client, make_account):
    account = make_account(mode="safe")
    xml = sample_text("inbound/msg_text.xml")
    response = post_callback(client, account, xml)
    assert response.status_code == 200
    InboundMessage.objects.all().delete()
    body = response.request["QUERY_STRING"]
    assert "msg_signature" in body
    query = dict(pair.split("=", 1) for pair in body.split("&"))
    query["msg_signature"] = "f" * 40
    forged = post_callback(client, account, xml.replace("1234567890123456", "999"), query=query, mode="plain")
    assert forged.status_code in (400, 403)
    assert not InboundMessage.objects.exists()


def test_unknown_appid_is_403_and_writes_nothing(client, account):
    response = client.post(
        "/wechat/wx0000000000000000/callback/?" + "&".join(f"{k}={v}" for k, v in signed_query(account.token).items()),
        data=sample_text("inbound/msg_text.xml"),
        content_type="text/xml",
    )
    assert response.status_code == 403
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;">]><xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName>'
        "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&lol2;</Content><MsgId>1</MsgId></xml>",
        '<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><FromUserName>&xxe;</FromUserName><MsgType>text</MsgType></xml>',
        "<xml><ToUserName>a</ToUserName><MsgType>text",
        "<xml><Content>no sender</Content></xml>",
        "",
    ],
    ids=["xml-bomb", "xxe", "truncated", "missing-fields", "empty"],
)
def test_hostile_or_malformed_body_is_400_and_writes_nothing(client, account, body):
    response = (
        post_callback(client, account, body)
        if body
        else client.post(
            account.callback_path + "?" + "&".join(f"{k}={v}" for k, v in signed_query(account.token).items()),
            data=b"",
            content_type="text/xml",
        )
    )
    assert response.status_code == 400
    assert not InboundMessage.objects.exists()


def test_oversized_body_is_400_and_writes_nothing(client, account, settings):
    xml = sample_text("inbound/msg_text.xml").replace("this is a test", "x" * (settings.WECHAT_CALLBACK_MAX_BODY + 1))
    response = post_callback(client, account, xml)
    assert response.status_code == 400
    assert not InboundMessage.objects.exists()


def test_wrong_aes_key_is_400_and_writes_nothing(client, make_account):
    account = make_account(mode="safe")
    account.encoding_aes_key = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
    account.save()
    response = post_callback(client, account, sample_text("inbound/msg_text.xml"))
    assert response.status_code == 400
    assert not InboundMessage.objects.exists()


def test_plaintext_post_to_a_safe_mode_account_is_refused(client, make_account):
    account = make_account(mode="safe")
    response = post_callback(client, account, sample_text("inbound/msg_text.xml"), mode="plain")
    assert response.status_code == 400
    assert not InboundMessage.objects.exists()


def test_first_callback_fills_the_original_id(client, make_account):
    account = make_account()
    type(account).objects.filter(pk=account.pk).update(original_id="")
    post_callback(client, account, sample_text("inbound/event_view.xml"))
    account.refresh_from_db()
    assert account.original_id == parse_xml(sample_text("inbound/event_view.xml"), max_bytes=1 << 20)["ToUserName"]


def test_callback_only_allows_get_and_post(client, account):
    assert client.put(account.callback_path).status_code == 405


def test_non_ascii_signature_is_403_not_a_server_error(client, account):
    query = {**signed_query(account.token), "signature": "签名" * 20}
    response = client.post(f"{account.callback_path}?{urlencode(query)}", data=b"<xml/>", content_type="text/xml")
    assert response.status_code == 403
    assert not InboundMessage.objects.exists()


def test_non_ascii_msg_signature_is_403_not_a_server_error(client, make_account):
    account = make_account(mode="safe")
    xml = sample_text("inbound/msg_text.xml")
    query = {**signed_query(account.token), "encrypt_type": "aes", "msg_signature": "签名"}
    ciphertext = encrypt(xml, encoding_aes_key=account.encoding_aes_key, appid=account.appid)
    body = f"<xml><ToUserName>toUser</ToUserName><Encrypt><![CDATA[{ciphertext}]]></Encrypt></xml>"
    response = client.post(f"{account.callback_path}?{urlencode(query)}", data=body.encode(), content_type="text/xml")
    assert response.status_code == 403
    assert not InboundMessage.objects.exists()

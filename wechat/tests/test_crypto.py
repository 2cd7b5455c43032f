import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from conftest import SAMPLES, sample_json, sample_text
from wechat import crypto
from wechat.crypto import CallbackError

PLAIN = sample_json("crypto/plain_signature_vectors.json")
EASYWECHAT = sample_json("crypto/mp_easywechat_decrypt_pamtest.json")
WXJAVA = sample_json("crypto/mp_reply_encrypt_fixed_random_wxjava.json")
WECOM = sample_json("crypto/wecom_format_wechatpy_test_crypto.json")


@pytest.mark.parametrize("case", PLAIN["cases"], ids=lambda c: c["token"])
def test_plain_signature_vectors_verify(case):
    assert crypto.signature_valid(case["token"], case["signature"], case["timestamp"], case["nonce"])


@pytest.mark.parametrize("case", PLAIN["cases"], ids=lambda c: c["token"])
def test_plain_signature_with_last_hex_flipped_fails(case):
    flipped = case["signature"][:-1] + ("e" if case["signature"][-1] != "e" else "f")
    assert not crypto.signature_valid(case["token"], flipped, case["timestamp"], case["nonce"])


def test_missing_signature_parts_fail():
    assert not crypto.signature_valid("test", "", "1410685589", "test")
    assert not crypto.signature_valid("test", "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff", "", "test")


def test_easywechat_vector_decrypts_with_32_byte_block_padding():
    query = EASYWECHAT["query"]
    assert crypto.signature_valid(
        EASYWECHAT["token"], query["msg_signature"], query["timestamp"], query["nonce"], EASYWECHAT["encrypt"]
    )
    plaintext = crypto.decrypt(EASYWECHAT["encrypt"], encoding_aes_key=EASYWECHAT["encoding_aes_key"], appid=EASYWECHAT["appid"])
    assert plaintext == EASYWECHAT["expected_plaintext"]
    assert EASYWECHAT["decrypted_layout"]["pkcs7_pad_len"] == 21


def test_easywechat_vector_with_foreign_appid_is_rejected():
    with pytest.raises(CallbackError) as exc:
        crypto.decrypt(EASYWECHAT["encrypt"], encoding_aes_key=EASYWECHAT["encoding_aes_key"], appid="invalid appid")
    assert exc.value.status == 400


def test_easywechat_vector_with_forged_msg_signature_fails():
    query = EASYWECHAT["query"]
    assert not crypto.signature_valid(
        EASYWECHAT["token"], "invalid-signature", query["timestamp"], query["nonce"], EASYWECHAT["encrypt"]
    )


@pytest.mark.parametrize("case", WXJAVA["cases"], ids=["utf8-text", "video-reply"])
def test_wxjava_fixed_random_encryption_is_byte_exact(case):
    encrypted = crypto.encrypt(
        case["plaintext"], encoding_aes_key=WXJAVA["encoding_aes_key"], appid=WXJAVA["appid"], random16=WXJAVA["random"].encode()
    )
    assert encrypted == case["expected_encrypt"]
    assert crypto.decrypt(encrypted, encoding_aes_key=WXJAVA["encoding_aes_key"], appid=WXJAVA["appid"]) == case["plaintext"]


def test_encrypted_reply_envelope_matches_the_computed_sample():
    case = WXJAVA["cases"][1]
    envelope = crypto.encrypted_envelope(
        case["plaintext"],
        token=WXJAVA["token"],
        encoding_aes_key=WXJAVA["encoding_aes_key"],
        appid=WXJAVA["appid"],
        nonce=WXJAVA["nonce"],
        timestamp=WXJAVA["timestamp"],
        random16=WXJAVA["random"].encode(),
    )
    assert envelope == sample_text("replies/reply_encrypted_envelope_computed.xml").strip()
    assert envelope == case["expected_reply_envelope_computed"]


def test_wecom_vector_cross_checks_the_same_aes_scheme():
    dec = WECOM["decrypt"]
    body = crypto.parse_xml(dec["post_body"], max_bytes=65536)
    assert crypto.signature_valid(WECOM["token"], dec["msg_signature"], dec["timestamp"], dec["nonce"], body["Encrypt"])
    plaintext = crypto.decrypt(body["Encrypt"], encoding_aes_key=WECOM["encoding_aes_key"], appid=WECOM["receive_id"])
    assert plaintext == dec["expected_plaintext"]
    enc = WECOM["encrypt_reply"]
    encrypted = crypto.encrypt(
        enc["plaintext"], encoding_aes_key=WECOM["encoding_aes_key"], appid=WECOM["receive_id"], random16=enc["random"].encode()
    )
    assert encrypted == enc["expected_encrypt"]
    assert crypto.sha1_signature(WECOM["token"], enc["timestamp"], enc["nonce"], encrypted) == enc["expected_msg_signature"]


@pytest.mark.parametrize("key", ["", "short", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF!"])
def test_malformed_aes_key_is_rejected(key):
    with pytest.raises(CallbackError):
        crypto.encrypt("x", encoding_aes_key=key, appid="wx1234567890abcdef")


def test_ciphertext_under_the_wrong_key_is_rejected():
    encrypted = crypto.encrypt("<xml/>", encoding_aes_key=WXJAVA["encoding_aes_key"], appid=WXJAVA["appid"])
    with pytest.raises(CallbackError):
        crypto.decrypt(encrypted, encoding_aes_key="kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", appid=WXJAVA["appid"])


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><xml><Content>&lol2;</Content></xml>',
        b'<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><Content>&xxe;</Content></xml>',
        b"<xml><Content>unclosed</xml>",
        b"not xml at all",
        b"<other><a>1</a></other>",
        b"<xml>text only</xml>",
    ],
    ids=["billion-laughs", "external-entity", "malformed", "garbage", "wrong-root", "no-children"],
)
def test_hostile_or_malformed_xml_is_refused(body):
    with pytest.raises(CallbackError) as exc:
        crypto.parse_xml(body, max_bytes=65536)
    assert exc.value.status == 400


def test_oversized_xml_is_refused():
    with pytest.raises(CallbackError):
        crypto.parse_xml(b"<xml><Content>" + b"a" * 70000 + b"</Content></xml>", max_bytes=65536)


# --- the flat fast path of parse_xml against expat + xmltodict ------------------------------------------------

XML_SAMPLES = {p.name: p.read_bytes() for p in sorted(SAMPLES.glob("*/*.xml"))}


@pytest.mark.parametrize("name", sorted(XML_SAMPLES))
def test_every_sample_parses_as_expat_and_xmltodict_parse_it(name):
    raw = XML_SAMPLES[name]
    assert crypto.parse_xml(raw, max_bytes=65536) == crypto._expat_parse(raw)


@pytest.mark.parametrize(
    "name", ["event_templatesendjobfinish_success.xml", "msg_text.xml", "event_subscribe_qrscene.xml", "msg_location.xml"]
)
def test_flat_pushes_take_the_fast_path(name):
    raw = XML_SAMPLES[name]
    assert crypto._flat_parse(raw) == crypto._expat_parse(raw)


@pytest.mark.parametrize(
    "body",
    [
        b"<xml><A><![CDATA[ x ]]></A><B>  </B><C></C><D>a > b</D>\n</xml>\n",
        "<xml><Content><![CDATA[中文 & <b>]]></Content></xml>".encode(),
    ],
)
def test_fast_path_strips_text_and_keeps_none_for_empty_elements_as_xmltodict(body):
    assert crypto._flat_parse(body) is not None
    assert crypto._flat_parse(body) == crypto._expat_parse(body)


@pytest.mark.parametrize(
    "body",
    [
        b"<xml><A>1</A><A>2</A></xml>",  # repeated: a list
        b"<xml><A>a&amp;b</A></xml>",  # entity
        b"<xml><A>a\r\nb</A></xml>",  # CR, which expat rewrites
        b'<xml><A x="1">a</A></xml>',  # attribute
        b"<xml><A><![CDATA[x]]>y]]></A></xml>",  # ]]> after the CDATA: malformed
        b"<xml><A><![CDATA[x]]></B><B>y]]></A></xml>",
        b"<xml><A>\x01</A></xml>",  # not an XML character
        b"<xml><A>\xff</A></xml>",  # not UTF-8
        b"<xml><A>1</A></xml><B>2</B>",  # a second root
        b"<xml><A><B>1</B></A></xml>",  # nested
        b"<xml></xml>",
        b" <xml><A>1</A></xml>",
    ],
)
def test_fast_path_leaves_every_other_shape_to_expat(body):
    assert crypto._flat_parse(body) is None


_FRAGMENTS = [
    b"\r", b"\r\n", b"&amp;", b"&#65;", b"&lol;", b"]]>", b"<![CDATA[", b"<", b">", b"</xml>", b"<xml>", b"<A>", b"</A>",
    b"<B/>", b"\x00", b"\x01", b"\x0b", b"\x7f", b"\xff", b"\xc3", "中".encode(), "\u3000".encode(), "\ufffe".encode(),
    b"<!-- c -->", b"<?pi x?>", b' a="1"', b"\t", b" ", b"\n", b"<A>1</A>", b"<xml:a>", b"&",
]  # fmt: skip


@given(
    name=st.sampled_from(sorted(XML_SAMPLES)),
    edits=st.lists(st.tuples(st.floats(0, 1), st.sampled_from(_FRAGMENTS), st.integers(0, 12)), min_size=1, max_size=4),
)
@hypothesis_settings(max_examples=1500, deadline=None)
def test_fast_path_never_disagrees_with_expat_on_mutated_samples(name, edits):
    raw = XML_SAMPLES[name]
    for where, fragment, cut in edits:
        at = int(where * len(raw))
        raw = raw[:at] + fragment + raw[at + cut % 3 :]  # insert, sometimes over a character or two
    fast = crypto._flat_parse(raw)
    if fast is None:
        return
    # What the fast path accepts, expat accepts too, and reads the same.
    assert fast == crypto._expat_parse(raw)

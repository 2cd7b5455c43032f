"""Property-based fuzzing of the callback, seeded with the recorded inbound samples.

Whatever arrives, the callback answers 200, 400 or 403 (never a 500), and a refused request leaves no
inbound row and no follower change behind. Each example runs in a savepoint that is rolled back, after
its on-commit side effects ran. The number of examples run is printed in the terminal summary.
"""

from __future__ import annotations

import base64
import re
import secrets
import time
from collections import Counter
from urllib.parse import urlencode

import pytest
from django.db import transaction
from django.test import TestCase
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import AES_KEY, SAMPLES
from followers.models import Follower
from messaging.inbound.models import InboundMessage
from wechat import crypto

# Read by messaging/inbound/tests/conftest.py for the terminal summary: examples run, by test and status.
FUZZ_CASES: Counter[str] = Counter()

MODES = ["plain", "compatible", "safe"]
SEEDS = {p.name: p.read_bytes() for p in sorted((SAMPLES / "inbound").glob("*.xml"))}
_ELEMENT = re.compile(rb"<(\w+)>(.*?)</\1>", re.S)
WINDOW = 300


# --- what is sent -------------------------------------------------------------------------------------------


@st.composite
def mutated_plaintext(draw) -> bytes:
    """A recorded push, maybe bent: a byte flipped, cut short, an element repeated or nested, a value blown up."""
    xml = SEEDS[draw(st.sampled_from(sorted(SEEDS)))]
    elements = list(_ELEMENT.finditer(xml, xml.index(b"<xml>") + len(b"<xml>")))  # the root's children
    kind = draw(st.sampled_from(["none", "flip", "truncate", "duplicate", "nest", "huge", "insert"]))
    if kind == "flip":
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(xml) - 1))
            xml = xml[:i] + bytes([draw(st.integers(0, 255))]) + xml[i + 1 :]
    elif kind == "truncate":
        xml = xml[: draw(st.integers(0, len(xml) - 1))]
    elif kind == "duplicate":
        element = draw(st.sampled_from(elements))
        copies = draw(st.integers(1, 3))
        xml = xml[: element.end()] + element.group(0) * copies + xml[element.end() :]
    elif kind == "nest":
        element = draw(st.sampled_from(elements))
        depth = draw(st.one_of(st.sampled_from([1, 7, 8, 9, 1000, 3000]), st.integers(1, 3000)))
        tag = draw(st.sampled_from([element.group(1), b"a", b"item"]))
        inner = b"<" + tag + b">"
        wrapped = inner * depth + element.group(2) + b"</" + tag + b">" * depth
        xml = xml[: element.start(2)] + wrapped + xml[element.end(2) :]
    elif kind == "huge":
        element = draw(st.sampled_from(elements))
        size = draw(st.sampled_from([33, 65, 513, 701, 5_000, 70_000]))
        value = draw(st.sampled_from([b"9", b"a", "中".encode(), b"\x00"])) * size
        xml = xml[: element.start(2)] + value + xml[element.end(2) :]
    elif kind == "insert":
        text = draw(st.text(max_size=40)).encode("utf-8", "surrogatepass")
        i = draw(st.integers(0, len(xml)))
        xml = xml[:i] + text + xml[i:]
    return xml


def _encrypted(plaintext: bytes, *, appid: str) -> str:
    # wechatpy takes bytes as they are, so undecodable plaintexts can be encrypted too.
    return crypto.encrypt(plaintext, encoding_aes_key=AES_KEY, appid=appid)


def _request(account, plaintext: bytes, *, mode: str, timestamp: int | None = None, token: str | None = None):
    """Query and body signed the way WeChat signs them for ``mode``; returns (params, body, ciphertext)."""
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = str(secrets.randbelow(10**10))
    params = {
        "signature": crypto.sha1_signature(token or account.token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
    }
    if mode == "plain":
        return params, plaintext, None
    ciphertext = _encrypted(plaintext, appid=account.appid)
    return params, _envelope(plaintext, ciphertext, mode=mode), ciphertext


def _envelope(plaintext: bytes, ciphertext: str, *, mode: str) -> bytes:
    enc = b"<Encrypt><![CDATA[" + ciphertext.encode() + b"]]></Encrypt>"
    if mode == "safe":
        to_user = re.search(rb"<ToUserName>(.*?)</ToUserName>", plaintext, re.S)
        return b"<xml><ToUserName>" + (to_user.group(1) if to_user else b"") + b"</ToUserName>" + enc + b"</xml>"
    stripped = plaintext.rstrip()
    if stripped.endswith(b"</xml>"):
        return stripped[: -len(b"</xml>")] + enc + b"</xml>"
    return stripped + enc


def _sign_encrypted(account, params: dict, ciphertext: str, *, msg_signature: str | None = None) -> dict:
    digest = crypto.sha1_signature(account.token, params["timestamp"], params["nonce"], ciphertext)
    return {**params, "encrypt_type": "aes", "msg_signature": digest if msg_signature is None else msg_signature}


# --- running one example ------------------------------------------------------------------------------------


def _followers() -> list[dict]:
    return list(Follower.objects.order_by("pk").values())


def _post(client, account, params: dict, body: bytes, *, test: str):
    """POST in a savepoint rolled back afterwards; side effects queued after commit run before the checks."""
    with transaction.atomic():
        followers = _followers()
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = client.post(f"{account.callback_path}?{urlencode(params)}", data=body, content_type="text/xml")
        FUZZ_CASES[f"{test} {response.status_code}"] += 1
        assert response.status_code in (200, 400, 403), (response.status_code, body[:300])
        if response.status_code != 200:
            assert not InboundMessage.objects.exists(), body[:300]
            assert _followers() == followers, body[:300]
        for row in InboundMessage.objects.all():
            _assert_stored_as_sent(row)
        transaction.set_rollback(True)
    return response


def _assert_stored_as_sent(row) -> None:
    """An accepted push is stored whole: each column holds the one value its element carried."""
    fields = crypto.parse_xml(row.raw_xml, max_bytes=1 << 20)
    assert row.openid == fields["FromUserName"]
    assert row.msg_type == fields["MsgType"].lower()
    assert row.event == (fields.get("Event") or "")
    assert row.event_key == (fields.get("EventKey") or "")
    assert row.msg_id == (fields.get("MsgId") or fields.get("MsgID") or "")
    assert row.payload == fields


# --- the properties ------------------------------------------------------------------------------------------


@settings(max_examples=settings.default.max_examples * 5 // 2)  # the main property gets more
@given(mode=st.sampled_from(MODES), plaintext=mutated_plaintext())
def test_mutated_pushes_get_200_400_or_403_and_refusals_write_nothing(client, fuzz_accounts, mode, plaintext):
    account = fuzz_accounts[mode]
    params, body, ciphertext = _request(account, plaintext, mode=mode)
    if ciphertext is not None:
        params = _sign_encrypted(account, params, ciphertext)
    _post(client, account, params, body, test="mutated pushes")


@given(
    mode=st.sampled_from(MODES),
    plaintext=mutated_plaintext(),
    # +2 ahead: the timestamp is whole seconds, our clock is not.
    skew=st.one_of(st.integers(WINDOW + 2, 10**8), st.integers(-(10**8), -(WINDOW + 1))),
)
def test_stale_or_future_timestamps_are_refused(client, fuzz_accounts, mode, plaintext, skew):
    account = fuzz_accounts[mode]
    params, body, ciphertext = _request(account, plaintext, mode=mode, timestamp=int(time.time()) + skew)
    if ciphertext is not None:
        params = _sign_encrypted(account, params, ciphertext)
    assert _post(client, account, params, body, test="stale timestamps").status_code == 403


@given(mode=st.sampled_from(MODES), plaintext=mutated_plaintext(), token=st.text(min_size=1, max_size=32))
def test_a_wrong_token_is_refused(client, fuzz_accounts, mode, plaintext, token):
    account = fuzz_accounts[mode]
    params, body, ciphertext = _request(account, plaintext, mode=mode, token=token if token != account.token else token + "x")
    if ciphertext is not None:
        params = _sign_encrypted(account, params, ciphertext)
    assert _post(client, account, params, body, test="wrong token").status_code == 403


@given(
    mode=st.sampled_from(["compatible", "safe"]),
    plaintext=mutated_plaintext(),
    msg_signature=st.one_of(st.text(max_size=45), st.from_regex(r"\A[0-9a-f]{40}\Z")),
)
def test_a_wrong_msg_signature_is_refused(client, fuzz_accounts, mode, plaintext, msg_signature):
    account = fuzz_accounts[mode]
    params, body, ciphertext = _request(account, plaintext, mode=mode)
    right = crypto.sha1_signature(account.token, params["timestamp"], params["nonce"], ciphertext)
    params = _sign_encrypted(account, params, ciphertext, msg_signature=msg_signature if msg_signature != right else "0" * 40)
    assert _post(client, account, params, body, test="wrong msg_signature").status_code in (400, 403)


@given(mode=st.sampled_from(["compatible", "safe"]), plaintext=mutated_plaintext(), data=st.data())
def test_truncated_and_repadded_ciphertexts_are_refused(client, fuzz_accounts, mode, plaintext, data):
    account = fuzz_accounts[mode]
    params, _, ciphertext = _request(account, plaintext, mode=mode)
    raw = base64.b64decode(ciphertext)
    cut = raw[: data.draw(st.integers(0, len(raw) - 1))]
    block = data.draw(st.sampled_from([1, 16, 32]))
    padded = cut + data.draw(st.binary(min_size=(-len(cut)) % block, max_size=(-len(cut)) % block))
    bent = base64.b64encode(padded).decode()
    if data.draw(st.booleans()):
        bent = bent.rstrip("=")
    body = _envelope(plaintext, bent, mode=mode)
    params = _sign_encrypted(account, params, bent)
    assert _post(client, account, params, body, test="truncated ciphertexts").status_code == 400


@given(mode=st.sampled_from(["compatible", "safe"]), plaintext=mutated_plaintext(), appid=st.from_regex(r"\Awx[0-9a-f]{16}\Z"))
def test_a_ciphertext_for_another_appid_is_refused(client, fuzz_accounts, mode, plaintext, appid):
    account = fuzz_accounts[mode]
    params, _, _ = _request(account, plaintext, mode=mode)
    foreign = _encrypted(plaintext, appid=appid if appid != account.appid else "wx" + "f" * 16)
    body = _envelope(plaintext, foreign, mode=mode)
    params = _sign_encrypted(account, params, foreign)
    assert _post(client, account, params, body, test="foreign appid").status_code == 400


@pytest.fixture
def fuzz_accounts(make_account):
    return {mode: make_account(appid=f"wx{i:016x}", mode=mode) for i, mode in enumerate(MODES, start=1)}

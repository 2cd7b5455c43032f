"""Posting to the real callback the way WeChat does, for tests."""

from __future__ import annotations

import re
import secrets
import time

from conftest import AES_KEY
from wechat import crypto
from wechat.crypto import parse_xml


def signed_query(token: str, *, timestamp: str | None = None, nonce: str | None = None) -> dict:
    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or str(secrets.randbelow(10**9))
    return {"signature": crypto.sha1_signature(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}


def post_callback(client, account, xml: str, *, mode: str | None = None, query: dict | None = None):
    """POST ``xml`` to the account's callback, encrypted per ``mode`` (defaults to the account's mode)."""
    mode = mode or account.encoding_mode
    params = dict(query or signed_query(account.token))
    body = xml
    if mode in ("compatible", "safe"):
        ciphertext = crypto.encrypt(xml, encoding_aes_key=AES_KEY, appid=account.appid)
        params["encrypt_type"] = "aes"
        params["msg_signature"] = crypto.sha1_signature(account.token, params["timestamp"], params["nonce"], ciphertext)
        enc = f"<Encrypt><![CDATA[{ciphertext}]]></Encrypt>"
        if mode == "safe":
            # Read without the hardened parser, so hostile plaintexts can be sent encrypted too.
            to_user = re.search(r"<ToUserName>(.*?)</ToUserName>", xml, re.S)
            body = f"<xml><ToUserName>{to_user.group(1) if to_user else ''}</ToUserName>{enc}</xml>"
        else:
            body = xml.strip()[: -len("</xml>")] + enc + "</xml>"
    url = f"{account.callback_path}?" + "&".join(f"{k}={v}" for k, v in params.items())
    return client.post(url, data=body.encode("utf-8"), content_type="text/xml")


def reply_plaintext(account, response) -> str:
    """The reply as WeChat reads it: decrypted when the request was encrypted."""
    text = response.content.decode("utf-8")
    if text.startswith("<xml>") and "<Encrypt>" in text:
        fields = parse_xml(text, max_bytes=1 << 20)
        assert crypto.signature_valid(
            account.token, fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"], fields["Encrypt"]
        )
        return crypto.decrypt(fields["Encrypt"], encoding_aes_key=AES_KEY, appid=account.appid)
    return text

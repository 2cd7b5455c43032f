"""Callback signatures, AES message encryption and hardened XML parsing (API.md §1).

wechatpy does the AES work (32-byte-block PKCS#7, appid check); this module adds the checks around
it and turns every failure into ``CallbackError`` with the HTTP status the callback should answer.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import time
from xml.parsers.expat import ExpatError

import xmltodict
from wechatpy.crypto import PrpCrypto

_AES_KEY_RE = re.compile(r"^[A-Za-z0-9]{43}$")
_FORBIDDEN_XML = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
# WeChat's deepest push is <xml><CopyrightCheckResult><ResultList><item><ArticleIdx>: five levels.
MAX_XML_DEPTH = 8
_TIMESTAMP_RE = re.compile(r"^[0-9]{1,12}$")
# The shape of nearly every push: <xml> and flat children, each holding one CDATA section or plain text.
_FLAT_CHILD = re.compile(r"\s*<([A-Za-z_][A-Za-z0-9_.-]*)>(?:<!\[CDATA\[(.*?)\]\]>|([^<&]*))</\1>", re.ASCII | re.DOTALL)
_FLAT_END = re.compile(r"\s*</xml>\s*", re.ASCII)
# What expat refuses (characters XML does not allow) or rewrites (CR line ends): left to it.
_FLAT_UNSURE = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]")


class CallbackError(Exception):
    def __init__(self, status: int, reason: str):
        self.status = status
        self.reason = reason
        super().__init__(reason)


def sha1_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def signature_valid(token: str, signature: str, timestamp: str, nonce: str, *extra: str) -> bool:
    if not (signature and timestamp and nonce):
        return False
    expected = sha1_signature(token, timestamp, nonce, *extra)
    # Bytes: compare_digest refuses str with non-ASCII characters, and the signature comes from the query.
    return hmac.compare_digest(expected.encode(), signature.lower().encode("utf-8", "replace"))


def timestamp_fresh(timestamp: str, *, window: int, now: float) -> bool:
    """Whether a callback's signed ``timestamp`` (unix seconds) is within ``window`` seconds of ``now``, either way.

    Plaintext signatures cover only token, timestamp and nonce: without this a leaked query string signs
    any body forever.
    """
    if not _TIMESTAMP_RE.match(timestamp or ""):
        return False
    return abs(int(timestamp) - now) <= window


def aes_key_bytes(encoding_aes_key: str) -> bytes:
    if not _AES_KEY_RE.match(encoding_aes_key or ""):
        raise CallbackError(400, "EncodingAESKey must be 43 letters and digits")
    return base64.b64decode(encoding_aes_key + "=")


class _FixedRandomPrpCrypto(PrpCrypto):
    def __init__(self, key, random16: bytes):
        super().__init__(key)
        self._random16 = random16

    def get_random_string(self):
        return self._random16


def encrypt(plaintext: str, *, encoding_aes_key: str, appid: str, random16: bytes | None = None) -> str:
    key = aes_key_bytes(encoding_aes_key)
    crypto = _FixedRandomPrpCrypto(key, random16) if random16 else PrpCrypto(key)
    return crypto.encrypt(plaintext, appid).decode("ascii")


def decrypt(ciphertext: str, *, encoding_aes_key: str, appid: str) -> str:
    key = aes_key_bytes(encoding_aes_key)
    try:
        return PrpCrypto(key).decrypt(ciphertext, appid)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, IndexError) as exc:
        raise CallbackError(400, "cannot decrypt the message") from exc
    except Exception as exc:  # wechatpy raises InvalidAppIdException for a foreign appid
        raise CallbackError(400, "decrypted message is for another AppID") from exc


def encrypted_envelope(
    plaintext: str,
    *,
    token: str,
    encoding_aes_key: str,
    appid: str,
    nonce: str | None = None,
    timestamp: str | None = None,
    random16: bytes | None = None,
) -> str:
    """The encrypted reply body, signed over the values it carries."""
    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or secrets.token_hex(5)
    encrypted = encrypt(plaintext, encoding_aes_key=encoding_aes_key, appid=appid, random16=random16)
    signature = sha1_signature(token, timestamp, nonce, encrypted)
    return (
        f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt><MsgSignature><![CDATA[{signature}]]></MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
    )


def parse_xml(body: bytes | str, *, max_bytes: int) -> dict:
    """Parse a callback body into a flat-ish dict with DTDs and entities refused."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if len(raw) > max_bytes:
        raise CallbackError(400, f"body larger than {max_bytes} bytes")
    if _FORBIDDEN_XML.search(raw):
        raise CallbackError(400, "DTDs and entities are not accepted")
    flat = _flat_parse(raw)
    return flat if flat is not None else _expat_parse(raw)


def _expat_parse(raw: bytes) -> dict:
    try:
        doc = xmltodict.parse(raw, disable_entities=True, postprocessor=_depth_limited)
    except _TooDeep as exc:
        raise CallbackError(400, f"XML nested deeper than {MAX_XML_DEPTH} levels") from exc
    except (ExpatError, ValueError) as exc:
        raise CallbackError(400, "malformed XML") from exc
    data = doc.get("xml") if isinstance(doc, dict) else None
    if not isinstance(data, dict):
        raise CallbackError(400, "the root element must be <xml> with children")
    return data


def _flat_parse(raw: bytes) -> dict | None:
    """The dict xmltodict gives for a flat document (``<xml>``, then children with one CDATA section or plain text
    each, no attributes, entities, comments or repeated names), read with two regular expressions at a fraction
    of expat's cost; None for anything else, which goes to expat and xmltodict, refusals included."""
    if not raw.startswith(b"<xml>"):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if _FLAT_UNSURE.search(text):
        return None
    data = {}
    pos = 5
    child = _FLAT_CHILD.match
    while match := child(text, pos):
        name, cdata, plain = match.groups()
        value = plain if cdata is None else cdata
        if name in data or "]]>" in value:  # repeated (xmltodict makes a list), or CDATA not closed where it seems
            return None
        data[name] = value.strip() or None  # xmltodict strips the text and keeps None for an empty element
        pos = match.end()
    if not data or not _FLAT_END.fullmatch(text, pos):
        return None
    return data


class _TooDeep(Exception):
    pass


def _depth_limited(path, key, value):
    # Called as each element closes, with the path of open elements: refuse before a deep tree reaches
    # code that walks it recursively (JSON encoding, copies).
    if len(path) > MAX_XML_DEPTH:
        raise _TooDeep
    return key, value

"""The WeChat callback: /wechat/<appid>/callback/ (DESIGN §3, API.md §1)."""

import logging
import time

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.selectors import account_for_callback
from wechat import crypto
from wechat.crypto import CallbackError

from .services import InboundRejected, SignatureReused, callback_signature_claim, inbound_receive

logger = logging.getLogger(__name__)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def callback(request, appid):
    account = account_for_callback(appid)
    if account is None:
        return HttpResponseForbidden("unknown account")
    query = request.GET
    timestamp, nonce, signature = query.get("timestamp", ""), query.get("nonce", ""), query.get("signature", "")
    if not crypto.signature_valid(account.token, signature, timestamp, nonce):
        logger.warning("callback.bad_signature", extra={"appid": appid})
        return HttpResponseForbidden("invalid signature")
    window = settings.WECHAT_CALLBACK_TIMESTAMP_WINDOW
    now = time.time()
    if not crypto.timestamp_fresh(timestamp, window=window, now=now):
        logger.warning(
            "callback.stale_timestamp",
            extra={"appid": appid, "method": request.method, "timestamp": timestamp[:16], "window": window},
        )
        return HttpResponseForbidden("timestamp outside the accepted window")
    if request.method == "GET":
        # URL verification: echostr is plaintext on Official Accounts, even in safe mode.
        return HttpResponse(query.get("echostr", ""), content_type="text/plain")

    encrypted = query.get("encrypt_type", "").lower() == "aes"
    try:
        body = _read_body(request)
        data = crypto.parse_xml(body, max_bytes=settings.WECHAT_CALLBACK_MAX_BODY)
        if encrypted:
            ciphertext = data.get("Encrypt")
            if not isinstance(ciphertext, str) or not account.encoding_aes_key:
                raise CallbackError(400, "encrypted message without Encrypt, or no EncodingAESKey configured")
            if not crypto.signature_valid(account.token, query.get("msg_signature", ""), timestamp, nonce, ciphertext):
                raise CallbackError(403, "invalid msg_signature")
            raw_xml = crypto.decrypt(ciphertext, encoding_aes_key=account.encoding_aes_key, appid=account.appid)
            data = crypto.parse_xml(raw_xml, max_bytes=settings.WECHAT_CALLBACK_MAX_BODY)
        elif account.encoding_mode == account.EncodingMode.SAFE:
            raise CallbackError(400, "this account is in safe mode and accepts only encrypted messages")
        else:
            raw_xml = body.decode("utf-8")
        claim = callback_signature_claim(
            appid=account.appid, timestamp=timestamp, nonce=nonce, signature=signature, body=body, window=window
        )
        reply = inbound_receive(account=account, data=data, raw_xml=raw_xml, claim=claim)
    except SignatureReused as exc:
        logger.warning("callback.signature_reused", extra={"appid": appid, "timestamp": timestamp})
        return HttpResponse(str(exc), status=403, content_type="text/plain")
    except InboundRejected as exc:
        logger.warning("callback.rejected", extra={"appid": appid, "reason": str(exc), "status": 400})
        return HttpResponse(str(exc), status=400, content_type="text/plain")
    except CallbackError as exc:
        logger.warning("callback.rejected", extra={"appid": appid, "reason": exc.reason, "status": exc.status})
        return HttpResponse(exc.reason, status=exc.status, content_type="text/plain")
    except UnicodeDecodeError:
        return HttpResponse("body is not UTF-8", status=400, content_type="text/plain")

    if not reply:
        return HttpResponse("success", content_type="text/plain")
    if encrypted:
        reply = crypto.encrypted_envelope(
            reply, token=account.token, encoding_aes_key=account.encoding_aes_key, appid=account.appid, nonce=nonce
        )
    return HttpResponse(reply, content_type="application/xml; charset=utf-8")


def _read_body(request) -> bytes:
    limit = settings.WECHAT_CALLBACK_MAX_BODY
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise CallbackError(400, f"body larger than {limit} bytes")
    body = request.read(limit + 1)
    if len(body) > limit:
        raise CallbackError(400, f"body larger than {limit} bytes")
    if not body:
        raise CallbackError(400, "empty body")
    return body

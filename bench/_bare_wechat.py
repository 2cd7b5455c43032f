"""The least a stand-in for WeChat can be: a WSGI app that answers every call with a fixed JSON body, after the
same latency as the sandbox server (``BARE_LATENCY_MS``), served by gunicorn like the sandbox server."""

import os
import time

LATENCY = int(os.environ.get("BARE_LATENCY_MS", "0")) / 1000
BODY = b'{"errcode":0,"errmsg":"ok","msgid":2000000000000001}'
HEADERS = [("Content-Type", "application/json; encoding=utf-8"), ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:
        environ["wsgi.input"].read(length)
    if LATENCY:
        time.sleep(LATENCY)
    start_response("200 OK", HEADERS)
    return [BODY]

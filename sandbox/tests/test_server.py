"""The sandbox served over real HTTP by ``manage.py sandbox_serve`` (gunicorn gthread), as benches use it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from conftest import free_port, port_wait

ROOT = Path(__file__).resolve().parents[2]
APPID = "wx5e7e000000000001"
SECRET = "served-secret"
OPENID = "oServed0000000000000000001"
LATENCY_MS = 400
DATA = {"keyword1": {"value": "巧克力"}, "keyword2": {"value": "39.8元"}, "keyword3": {"value": "2026年11月11日"}}
SETUP = f"""
from sandbox.models import SandboxApp, SandboxFollower
from sandbox.tests.factories import SandboxFollowerFactory
app = SandboxApp.objects.create(appid={APPID!r}, secret={SECRET!r}, original_id="gh_5e7e00000001",
    callback_token="served", callback_url="http://127.0.0.1:9/wechat/callback/", account_type="service", verified=True)
SandboxFollowerFactory(app=app, openid={OPENID!r})
"""


@contextmanager
def sandbox_serving(database_url: str, *options: str) -> Iterator[str]:
    """``manage.py sandbox_serve`` on a free loopback port over ``database_url``; yields its API base URL."""
    env = {**os.environ, "DATABASE_URL": database_url, "SANDBOX_TEMPLATE_JOB_FINISH_DELAY": "3600"}  # no push leaves
    port = free_port()
    command = [sys.executable, str(ROOT / "manage.py"), "sandbox_serve", "--port", str(port), *options]
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        port_wait(port, process, "sandbox_serve")
        yield f"http://127.0.0.1:{port}/sandbox/"
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The sandbox on a free loopback port with LATENCY_MS per call, over a database of its own that holds only the
    sandbox's tables: the served stand-in needs nothing else (and migrating the whole project takes much longer)."""
    database_url = f"sqlite:///{tmp_path_factory.mktemp('sandbox_server') / 'sandbox.sqlite3'}"
    manage = [sys.executable, str(ROOT / "manage.py")]
    env = {**os.environ, "DATABASE_URL": database_url}
    subprocess.run([*manage, "migrate", "sandbox", "-v0"], env=env, cwd=ROOT, check=True)
    subprocess.run([*manage, "shell", "-c", SETUP], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    options = ("--latency-ms", str(LATENCY_MS), "--workers", "1", "--threads", "32", "--fast")
    with sandbox_serving(database_url, *options) as base:
        yield base


def _token(base: str, session: requests.Session) -> str:
    answer = session.get(
        f"{base}cgi-bin/token", params={"grant_type": "client_credential", "appid": APPID, "secret": SECRET}, timeout=10
    ).json()
    return answer["access_token"]


def test_served_sandbox_answers_a_token_call_and_a_template_send_over_http(served):
    with requests.Session() as session:
        token = _token(served, session)
        added = session.post(
            f"{served}cgi-bin/template/api_add_template",
            params={"access_token": token},
            json={"template_id_short": "TM00015"},
            timeout=10,
        ).json()
        assert added["errcode"] == 0, added
        sent = session.post(
            f"{served}cgi-bin/message/template/send",
            params={"access_token": token},
            json={"touser": OPENID, "template_id": added["template_id"], "data": DATA},
            timeout=10,
        ).json()
    assert sent["errcode"] == 0 and sent["msgid"], sent


def test_served_sandbox_latency_does_not_hold_a_worker(served):
    with requests.Session() as session:
        token = _token(served, session)
    calls = 12

    def one(_):
        with requests.Session() as session:
            return session.get(f"{served}cgi-bin/getcallbackip", params={"access_token": token}, timeout=10).json()

    with ThreadPoolExecutor(calls) as pool:
        began = time.monotonic()
        answers = list(pool.map(one, range(calls)))
        elapsed = time.monotonic() - began
    assert all("ip_list" in answer for answer in answers), answers
    # One worker process: calls waiting out the latency in turn would take calls x LATENCY_MS.
    assert LATENCY_MS / 1000 <= elapsed < 3 * LATENCY_MS / 1000, elapsed


@pytest.mark.django_db
def test_fast_mode_writes_call_records_in_a_batch_and_keeps_no_quota_counter(settings, monkeypatch):
    from sandbox import core, fast
    from sandbox.models import SandboxApp, SandboxCall, SandboxQuota

    settings.SANDBOX_FAST = True
    monkeypatch.setattr(fast, "_flusher_start", lambda: None)  # the test flushes; no timer thread
    SandboxApp.objects.create(appid=APPID, secret=SECRET, original_id="gh_5e7e00000001", callback_token="t", callback_url="")
    for _ in range(3):
        call = core.Call(
            api="cgi-bin/token",
            method="GET",
            query={"grant_type": "client_credential", "appid": APPID, "secret": SECRET},
            body=b"",
            files={},
            post={},
        )
        assert core.handle(call)[1]["access_token"]
    assert not SandboxCall.objects.exists()
    assert fast.calls_flush() == 3
    assert (
        list(SandboxCall.objects.values_list("api", "request_json"))
        == [("cgi-bin/token", {"grant_type": "client_credential", "appid": APPID})] * 3
    )
    assert not SandboxQuota.objects.exists()


def test_sandbox_serve_refuses_an_address_that_is_not_loopback():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="loopback"):
        call_command("sandbox_serve", "--host", "0.0.0.0")


@pytest.mark.parametrize("mode", ["plain", "compatible", "safe"])
def test_a_job_finish_push_is_posted_signed_and_encrypted_as_wechat_posts_it(mode):
    """The served sandbox's TEMPLATESENDJOBFINISH on the wire: the query WeChat signs, the XML it sends."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlsplit

    from sandbox.endpoints.template import _job_finish_push
    from sandbox.models import SandboxApp
    from wechat import crypto

    received = []

    class Callback(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], body.decode()))
            self.send_response(200)
            self.send_header("Content-Length", "7")
            self.end_headers()
            self.wfile.write(b"success")

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Callback)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    app = SandboxApp(
        appid=APPID,
        original_id="gh_5e7e00000001",
        callback_token="served",
        encoding_mode=mode,
        encoding_aes_key=key if mode != "plain" else "",
        callback_url=f"http://127.0.0.1:{httpd.server_address[1]}/wechat/callback/abc/?from=sandbox",
    )
    try:
        _job_finish_push(app, OPENID, 2_000_000_123, "failed:user block")
        _job_finish_push(app, OPENID, 2_000_000_124, "success")  # the same kept-alive connection
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert len(received) == 2
    target, content_type, body = received[0]
    url = urlsplit(target)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert url.path == "/wechat/callback/abc/" and content_type == "text/xml"
    assert url.query.startswith("from=sandbox&signature=")
    assert query["signature"] == crypto.sha1_signature("served", query["timestamp"], query["nonce"])
    assert abs(int(query["timestamp"]) - time.time()) < 60 and query["openid"] == OPENID
    if mode == "plain":
        assert "encrypt_type" not in query
        plaintext = body
    else:
        assert query["encrypt_type"] == "aes"
        ciphertext = crypto.parse_xml(body, max_bytes=1 << 20)["Encrypt"]
        assert query["msg_signature"] == crypto.sha1_signature("served", query["timestamp"], query["nonce"], ciphertext)
        plaintext = crypto.decrypt(ciphertext, encoding_aes_key=key, appid=APPID)
        assert ("<MsgType>" in body) is (mode == "compatible")
    fields = crypto.parse_xml(plaintext, max_bytes=1 << 20)
    assert plaintext.startswith("<xml><ToUserName><![CDATA[gh_5e7e00000001]]></ToUserName>")
    assert {k: v for k, v in fields.items() if k != "CreateTime"} == {
        "ToUserName": "gh_5e7e00000001",
        "FromUserName": OPENID,
        "MsgType": "event",
        "Event": "TEMPLATESENDJOBFINISH",
        "MsgID": "2000000123",
        "Status": "failed:user block",
    }
    assert "<MsgID>2000000123</MsgID>" in plaintext

"""message/template/send answered by the served sandbox's WSGI application before Django (fast mode, PostgreSQL).

The answer (``server._template_send_build``) is called with a real WSGI environ over committed rows, as gunicorn
calls it; the last tests serve the sandbox over HTTP on the test database and check what Django still answers.
"""

from __future__ import annotations

import io
import json
import threading
import time
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

import psycopg2
import pytest
import requests
from django.db import connection
from django.utils import timezone

from sandbox import core, server
from sandbox import fast as sandbox_fast
from sandbox.models import (
    SandboxApp,
    SandboxCall,
    SandboxDelivery,
    SandboxFault,
    SandboxFollower,
    SandboxTemplate,
    SandboxTemplateReceiver,
    SandboxTemplateSend,
)
from sandbox.tests.test_server import sandbox_serving

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the fast send runs on PostgreSQL only"),
]

API = "cgi-bin/message/template/send"
OPENID = "oFastPath00000000000000001"
DATA = {"keyword1": {"value": "巧克力"}, "keyword2": {"value": "39.8元"}, "keyword3": {"value": "2026年11月11日"}}
CONTENT = "商品名称：{{keyword1.DATA}}\n支付金额：{{keyword2.DATA}}\n支付时间：{{keyword3.DATA}}"


@pytest.fixture
def fast(settings, monkeypatch):
    """Fast mode in a served sandbox: pushes scheduled are kept here, call records written when the test flushes."""
    settings.SANDBOX_FAST = True
    settings.SANDBOX_SERVER = True
    settings.SANDBOX_TEMPLATE_JOB_FINISH_DELAY = 7
    monkeypatch.setattr(sandbox_fast, "_flusher_start", lambda: None)
    monkeypatch.setattr(core, "_fast_credentials", {})
    monkeypatch.setattr(core, "_faults_seen", {"any": True, "until": 0.0})
    pushes = []
    monkeypatch.setattr(server, "push_later", lambda delay, push, *args: pushes.append((delay, push.__name__, *args)))
    answer = server._template_send_build(settings)
    answer.pushes = pushes
    yield answer
    answer.pool.close()
    sandbox_fast.calls_flush()


@pytest.fixture
def app():
    app = SandboxApp.objects.create(
        appid="wx5e7e00000000f001",
        secret="s",
        original_id="gh_5e7e0000f001",
        callback_token="t",
        callback_url="http://127.0.0.1:9/wechat/callback/",
    )
    SandboxTemplate.objects.create(app=app, template_id="tpl-1", title="订单支付成功", content=CONTENT)
    SandboxFollower.objects.create(app=app, openid=OPENID, subscribe_time=0)
    return app


@pytest.fixture
def token(app):
    return core.new_credential(app, "token").value


def _environ(query: dict | str, body: bytes, *, method: str = "POST", content_type: str = "application/json") -> dict:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": server.TEMPLATE_SEND_PATH,
        "QUERY_STRING": query if isinstance(query, str) else urlencode(query),
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    setup_testing_defaults(environ)
    return environ


def _send(answer, token: str, payload: dict | bytes) -> dict | None:
    body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    answered = answer(_environ({"access_token": token}, body))
    return None if answered is None else json.loads(answered)


def _message(**changes) -> dict:
    return {"touser": OPENID, "template_id": "tpl-1", "data": DATA, **changes}


def test_a_send_is_stored_with_its_delivery_its_push_scheduled_and_its_call_recorded(fast, app, token):
    answer = _send(fast, token, _message(url="https://example.com/o/1", client_msg_id="order-1"))
    assert answer["errcode"] == 0 and answer["errmsg"] == "ok"
    (send,) = SandboxTemplateSend.objects.filter(app=app)
    assert answer["msgid"] == send.msgid and (send.openid, send.template_id, send.client_msg_id) == (OPENID, "tpl-1", "order-1")
    (delivery,) = SandboxDelivery.objects.filter(app=app, channel="template")
    assert delivery.msg_id == str(send.msgid)
    assert delivery.payload == {
        "template_id": "tpl-1",
        "title": "订单支付成功",
        "data": DATA,
        "url": "https://example.com/o/1",
        "client_msg_id": "order-1",
    }
    ((delay, push, pushed_app, openid, msgid, status),) = fast.pushes
    assert (delay, push, pushed_app.pk, openid, msgid, status) == (7, "_job_finish_push", app.pk, OPENID, send.msgid, "success")
    assert not SandboxCall.objects.exists()  # batched, as every call in fast mode
    assert sandbox_fast.calls_flush() == 1
    (call,) = SandboxCall.objects.all()
    assert (call.app_id, call.api, call.errcode) == (app.pk, API, 0)
    assert call.request_json == _message(url="https://example.com/o/1", client_msg_id="order-1")


def test_a_resent_client_msg_id_answers_the_first_msgid_and_stores_nothing(fast, app, token):
    first = _send(fast, token, _message(client_msg_id="order-2"))
    again = _send(fast, token, _message(client_msg_id="order-2", data={"keyword1": {"value": "x"}}))
    assert again == first
    assert SandboxTemplateSend.objects.filter(app=app).count() == 1
    assert SandboxDelivery.objects.filter(app=app).count() == 1
    assert len(fast.pushes) == 1


def test_a_blocking_receiver_gets_the_send_without_a_delivery_and_a_failed_job(fast, app, token):
    SandboxTemplateReceiver.objects.create(app=app, openid=OPENID, behaviour="block")
    answer = _send(fast, token, _message())
    assert answer["errcode"] == 0
    assert not SandboxDelivery.objects.exists()
    assert fast.pushes[0][-2:] == (answer["msgid"], "failed:user block")


@pytest.mark.parametrize(
    ("change", "payload", "errcode", "errmsg"),
    [
        ("personal", _message(), 48001, "api unauthorized"),
        ("unverified", _message(), 48001, "api unauthorized"),
        (None, _message(template_id="nope"), 40037, "invalid template_id"),
        (None, _message(touser="oSomeoneElse"), 40003, "invalid openid"),
        ("unfollowed", _message(), 43004, "require subscribe"),
        ("refusing", _message(), 43101, "user refuse to accept the msg"),
        (None, _message(data={"keyword1": {"value": "x"}}), 47001, "data format error hint: missing keyword2"),
        (None, _message(data={**DATA, "keyword9": {"value": "x"}}), 47001, "data format error hint: data.keyword9"),
        (None, _message(data=[1]), 47001, "data format error hint: data"),
        (None, b"not json", 47001, "data format error"),
    ],
)
def test_wechats_checks_answer_its_errors_and_store_nothing(fast, app, token, change, payload, errcode, errmsg):
    if change == "personal":
        SandboxApp.objects.filter(pk=app.pk).update(account_type="subscription")
    elif change == "unverified":
        SandboxApp.objects.filter(pk=app.pk).update(verified=False)
    elif change == "unfollowed":
        SandboxFollower.objects.filter(app=app).update(subscribed=False)
    elif change == "refusing":
        SandboxTemplateReceiver.objects.create(app=app, openid=OPENID, behaviour="refuse")
    answer = _send(fast, token, payload)
    assert answer["errcode"] == errcode
    assert answer["errmsg"].startswith(f"{errmsg} rid: "), answer
    assert not SandboxTemplateSend.objects.exists() and not SandboxDelivery.objects.exists() and not fast.pushes
    sandbox_fast.calls_flush()
    assert list(SandboxCall.objects.values_list("api", "errcode")) == [(API, errcode)]


def test_tokens_missing_unknown_revoked_or_expired_are_refused_as_wechat_does(fast, app, token):
    assert _send(fast, "", _message())["errcode"] == 41001
    assert _send(fast, "not-a-token", _message())["errcode"] == 40001
    revoked = core.new_credential(app, "token")
    revoked.revoked_at = timezone.now()
    revoked.save()
    assert _send(fast, revoked.value, _message())["errcode"] == 40001
    expired = core.new_credential(app, "token", ttl=-1)
    assert _send(fast, expired.value, _message())["errcode"] == 42001
    assert _send(fast, token, _message())["errcode"] == 0
    sandbox_fast.calls_flush()
    assert list(SandboxCall.objects.order_by("id").values_list("app_id", "errcode")) == [
        (None, 41001),
        (None, 40001),
        (None, 40001),
        (app.pk, 42001),
        (app.pk, 0),
    ]


def test_a_token_row_is_read_once_a_second_and_an_expiry_seen_on_the_app_clock(fast, app, token):
    assert _send(fast, token, _message())["errcode"] == 0
    SandboxApp.objects.filter(pk=app.pk).update(clock_offset=3 * 3600)
    assert _send(fast, token, _message())["errcode"] == 0  # the token's row and its app, kept for a second
    core._fast_credentials.clear()
    assert _send(fast, token, _message())["errcode"] == 42001


def test_faults_uploads_and_oversized_bodies_are_left_to_django(fast, app, token, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    body = json.dumps(_message()).encode()
    assert fast(_environ({"access_token": token}, body, content_type="multipart/form-data; boundary=x")) is None
    assert fast(_environ({"access_token": token}, body + b" " * 100)) is None
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
    assert _send(fast, token, _message())["errcode"] == 0
    SandboxFault.objects.create(app=app, api=API, kind="errcode", value=45009)
    core.faults_changed()
    assert _send(fast, token, _message()) is None
    assert SandboxTemplateSend.objects.count() == 1


def test_the_pool_holds_at_most_its_size_of_connections(settings):
    opened = []
    pool = server.ConnectionPool(2, lambda: opened.append(server._pg_connect()) or opened[-1])
    third = threading.Event()

    def one_more():
        with pool.cursor() as cursor:
            cursor.execute("SELECT 3")
            third.set()

    try:
        with pool.cursor() as one, pool.cursor() as two:
            one.execute("SELECT 1")
            two.execute("SELECT 2")
            waiting = threading.Thread(target=one_more)
            waiting.start()
            assert not third.wait(0.3)  # both connections are in use: the third call waits for one
        waiting.join(5)
        assert third.is_set() and len(opened) == 2
        with pytest.raises(psycopg2.errors.UndefinedTable), pool.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")
        assert sum(conn.closed for conn in opened) == 1  # not handed out again
        with pool.cursor() as one, pool.cursor() as two:
            one.execute("SELECT 4")
            two.execute("SELECT 5")
            assert two.fetchone() == (5,)
        assert len(opened) == 3
    finally:
        pool.close()


def test_the_pools_statements_are_prepared_once_per_connection(settings):
    pool = server.ConnectionPool(1, server._pg_connect)
    sql = "SELECT %s::int + %s::int"
    try:
        for n in range(3):
            with pool.cursor() as cursor:
                cursor.execute(sql, [n, 1])
                assert cursor.fetchone() == (n + 1,)
                cursor.execute("SELECT statement FROM pg_prepared_statements")
                assert [row[0] for row in cursor.fetchall()] == ["PREPARE sandbox_1 AS SELECT $1::int + $2::int"]
        with pool.cursor() as cursor:  # named parameters and an escaped % run as they are, unprepared
            cursor.execute("SELECT %(n)s::int, '100%%'", {"n": 7})
            assert cursor.fetchone() == (7, "100%")
            cursor.execute("SELECT %s::text || '%%'", [5])
            assert cursor.fetchone() == ("5%",)
            cursor.execute("SELECT count(*) FROM pg_prepared_statements")
            assert cursor.fetchone() == (1,)
        with pytest.raises(psycopg2.errors.DivisionByZero), pool.cursor() as cursor:
            cursor.execute("SELECT 1 / %s", [0])
        with pool.cursor() as cursor:  # a new connection, its statements prepared anew
            cursor.execute(sql, [2, 2])
            assert cursor.fetchone() == (4,)
            cursor.execute("SELECT count(*) FROM pg_prepared_statements")
            assert cursor.fetchone() == (1,)
    finally:
        pool.close()


# Over HTTP: the sandbox served on the test database, as the push bench serves it.


@pytest.fixture
def served(app, token):
    with sandbox_serving(_database_url(), "--workers", "1", "--fast") as base:
        yield base


def _database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def test_served_sandbox_answers_the_send_and_leaves_the_rest_to_django(served, app, token):
    with requests.Session() as session:
        url = f"{served}{API}"
        sent = session.post(url, params={"access_token": token}, json=_message(client_msg_id="http-1"), timeout=10)
        assert sent.headers["Content-Type"] == "application/json; charset=utf-8"
        assert sent.json()["errcode"] == 0
        again = session.post(url, params={"access_token": token}, json=_message(client_msg_id="http-1"), timeout=10)
        assert again.json() == sent.json()
        assert session.get(url, params={"access_token": token}, timeout=10).json()["errcode"] == 405  # Django's answer
        assert session.post(url, json=_message(), timeout=10).json()["errcode"] == 41001
        ips = session.get(f"{served}cgi-bin/getcallbackip", params={"access_token": token}, timeout=10).json()
        assert "ip_list" in ips
        # A fault is Django's to apply: the send goes through core.handle once the server sees it (within a second).
        SandboxFault.objects.create(app=app, api=API, kind="errcode", value=45009)
        for _ in range(30):
            faulted = session.post(url, params={"access_token": token}, json=_message(), timeout=10).json()
            if faulted["errcode"] == 45009:
                break
            time.sleep(0.1)
        assert faulted["errcode"] == 45009
    assert SandboxTemplateSend.objects.filter(app=app).count() < 30
    assert SandboxTemplateSend.objects.filter(app=app, client_msg_id="http-1").count() == 1

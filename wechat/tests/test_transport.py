"""wechat.http over real sockets: the pooled client's answers, timeouts and broken connections, and what they log."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts.models import OfficialAccount
from wechat import http
from wechat.api.endpoints import Endpoint
from wechat.errors import CONNECTION_ERROR, TIMEOUT, WeChatError, WeChatTimeout
from wechat.models import ApiCallLog

TOKEN = "tok-" + "x" * 40


class FakeWeChat(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as api.weixin.qq.com
    seen: list = []
    connections: set = set()
    answer: bytes = b'{"errcode":0,"errmsg":"ok","msgid":7}'
    delay = 0.0
    hang_up = False  # close the kept-alive connection after answering, without saying so

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"] or 0))
        self._answer(body)

    def do_GET(self):
        self._answer(b"")

    def _answer(self, body: bytes):
        type(self).seen.append((self.command, self.path, self.headers.get("Content-Type"), body))
        type(self).connections.add(self.client_address)
        time.sleep(type(self).delay)
        answer = type(self).answer
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        try:
            self.wfile.write(answer)
        except BrokenPipeError:  # the client gave up waiting
            pass
        if type(self).hang_up:
            self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def wechat_server():
    FakeWeChat.seen, FakeWeChat.connections, FakeWeChat.delay, FakeWeChat.hang_up = [], set(), 0.0, False
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeWeChat)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sandbox/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def served_account(account, settings):
    settings.WECHAT_API_BASE_URL_ALLOW_LOCAL_SANDBOX = True

    def at(base_url: str) -> OfficialAccount:
        OfficialAccount.objects.filter(pk=account.pk).update(api_base_url=base_url)
        account.refresh_from_db()
        return account

    return at


def test_a_json_call_sends_utf8_with_the_token_in_the_query_and_reuses_its_connection(served_account, wechat_server):
    account = served_account(wechat_server)
    for n in range(3):
        result = http.call(
            account, Endpoint.TEMPLATE_SEND, json={"touser": f"o{n}", "data": {"k": {"value": "巧克力"}}}, access_token=TOKEN
        )
        assert result["msgid"] == 7
    method, path, content_type, body = FakeWeChat.seen[0]
    assert (method, content_type) == ("POST", "application/json; charset=utf-8")
    assert path == f"/sandbox/{Endpoint.TEMPLATE_SEND.path}?access_token={TOKEN}"
    assert json.loads(body.decode("utf-8"))["data"]["k"]["value"] == "巧克力"
    assert "巧克力".encode() in body  # Chinese kept as is, not \\u escapes
    assert len(FakeWeChat.connections) == 1  # kept alive across calls


def test_an_errcode_is_raised_with_the_body_wechat_sent(served_account, wechat_server):
    FakeWeChat.answer = b'{"errcode":45065,"errmsg":"clientmsgid exist","msg_id":1000001}'
    try:
        account = served_account(wechat_server)
        with pytest.raises(WeChatError) as refused:
            http.call(account, Endpoint.TEMPLATE_SEND, json={"touser": "o"}, access_token=TOKEN)
    finally:
        FakeWeChat.answer = b'{"errcode":0,"errmsg":"ok","msgid":7}'
    assert refused.value.errcode == 45065
    assert refused.value.response["msg_id"] == 1000001


def test_no_answer_in_time_is_a_timeout_that_may_have_taken_effect(served_account, wechat_server, settings, caplog):
    settings.WECHAT_READ_TIMEOUT = 0.2
    FakeWeChat.delay = 0.6
    account = served_account(wechat_server)
    with pytest.raises(WeChatTimeout) as slow:
        http.call(account, Endpoint.TEMPLATE_SEND, json={"touser": "o"}, access_token=TOKEN)
    assert slow.value.errcode == TIMEOUT
    # The server notes the request when its thread gets to it, which a busy machine may put off past the timeout.
    deadline = time.monotonic() + 10
    while not FakeWeChat.seen and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(FakeWeChat.delay)  # a retry, sent before the call gave up, would have been noted by now too
    assert len(FakeWeChat.seen) == 1  # it reached the server: never retried here
    log = ApiCallLog.objects.get()
    assert log.errcode == TIMEOUT
    assert TOKEN not in str(slow.value) and TOKEN not in caplog.text and slow.value.__cause__ is None


def test_a_refused_connection_is_a_connection_error_without_the_url(served_account, caplog):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    account = served_account(f"http://127.0.0.1:{port}/sandbox/")
    with pytest.raises(WeChatError) as broken:
        http.call(account, Endpoint.CALLBACK_IP, access_token=TOKEN)
    assert broken.value.errcode == CONNECTION_ERROR
    assert not isinstance(broken.value, WeChatTimeout)
    assert TOKEN not in str(broken.value) and TOKEN not in caplog.text and broken.value.__cause__ is None
    assert ApiCallLog.objects.get().errcode == CONNECTION_ERROR


def test_a_kept_connection_the_server_closed_meanwhile_is_replaced_not_failed(served_account, wechat_server):
    FakeWeChat.hang_up = True
    account = served_account(wechat_server)
    for n in range(3):
        assert http.call(account, Endpoint.TEMPLATE_SEND, json={"touser": f"o{n}"}, access_token=TOKEN)["msgid"] == 7
        time.sleep(0.05)  # the server's close reaches the client before the next call
    assert len(FakeWeChat.seen) == 3  # each sent exactly once
    assert len(FakeWeChat.connections) == 3


CLOSE = b"<close>"  # an answer ending so is sent without it, then the server closes the connection


class RawServer:
    """A socket server answering each request with the next of ``answers`` (raw bytes), to test how answers are read."""

    def __init__(self, answers: list[bytes]):
        self.answers, self.requests, self.accepted = list(answers), [], 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/sandbox/"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while self.answers:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn):
        with conn:
            while self.answers:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = next(
                    (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0
                )
                while len(body) < length:
                    body += conn.recv(65536)
                self.requests.append(head)
                answer = self.answers.pop(0)
                conn.sendall(answer.removesuffix(CLOSE))
                if answer.endswith(CLOSE):
                    return

    def close(self):
        self.sock.close()


OK = b'{"errcode":0,"errmsg":"ok","msgid":7}'


def _json(extra: bytes = b"", body: bytes = OK) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + extra + b"Content-Length: %d\r\n\r\n" % len(body) + body


@pytest.mark.parametrize(
    ("answer", "connections"),
    [
        pytest.param(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n"
            + OK[:16]
            + b"\r\n"
            + b"%x;ext=1\r\n" % (len(OK) - 16)
            + OK[16:]
            + b"\r\n0\r\nX-Trailer: 1\r\n\r\n",
            1,
            id="chunked",
        ),
        pytest.param(b"HTTP/1.1 100 Continue\r\n\r\n" + _json(), 1, id="interim answer first"),
        pytest.param(b"HTTP/1.1 200 OK\r\ncontent-length:  %d \r\n\r\n" % len(OK) + OK, 1, id="header case and spaces"),
        pytest.param(_json(b"Connection: close\r\n") + CLOSE, 2, id="Connection: close"),
        pytest.param(_json().replace(b"HTTP/1.1", b"HTTP/1.0") + CLOSE, 2, id="HTTP/1.0"),
        pytest.param(_json() + b"HTTP/1.1 200 OK\r\n", 2, id="bytes past the answer"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + OK + CLOSE, 2, id="read to the close"),
    ],
)
def test_an_answer_is_read_whole_and_its_connection_kept_only_if_it_can_carry_another(served_account, answer, connections):
    server = RawServer([answer, _json()])
    try:
        account = served_account(server.url)
        assert http.call(account, Endpoint.TEMPLATE_SEND, json={"touser": "o"}, access_token=TOKEN)["msgid"] == 7
        assert http.call(account, Endpoint.TEMPLATE_SEND, json={"touser": "o"}, access_token=TOKEN)["msgid"] == 7
    finally:
        server.close()
    assert server.accepted == connections
    request = server.requests[0].decode("latin-1") + "\r\n"
    assert request.startswith(f"POST /sandbox/{Endpoint.TEMPLATE_SEND.path}?access_token={TOKEN} HTTP/1.1\r\n")
    assert "\r\nHost: 127.0.0.1:" in request and "\r\nContent-Length: 15\r\n" in request


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(b"SSH-2.0-OpenSSH\r\n\r\n", id="not HTTP"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + OK + CLOSE, id="body cut short"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", id="two lengths"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", id="bad length"),
        pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", id="bad chunk size"),
        pytest.param(b"HTTP/1.1 200 OK\r\n" + b"X-Long: " + b"a" * 70000 + b"\r\n\r\n", id="endless header line"),
        pytest.param(b"HTTP/1.1 200 OK\r\n" + b"X-Many: 1\r\n" * 101 + b"Content-Length: 0\r\n\r\n", id="too many headers"),
    ],
)
def test_a_broken_answer_is_a_connection_error_and_the_connection_is_dropped(served_account, answer, caplog):
    server = RawServer([answer, _json()])
    try:
        account = served_account(server.url)
        with pytest.raises(WeChatError) as broken:
            http.call(account, Endpoint.TEMPLATE_SEND, json={"touser": "o"}, access_token=TOKEN)
        assert http.call(account, Endpoint.TEMPLATE_SEND, json={"touser": "o"}, access_token=TOKEN)["msgid"] == 7
    finally:
        server.close()
    assert broken.value.errcode == CONNECTION_ERROR
    assert TOKEN not in str(broken.value) and TOKEN not in caplog.text
    assert server.accepted == 2


def test_a_header_value_with_a_line_break_is_never_sent():
    from wechat import transport

    with pytest.raises(ValueError):
        transport._request_bytes("POST", "api.weixin.qq.com", "/cgi-bin/x", b"{}", {"X-Evil": "a\r\nX-Injected: 1"})
    with pytest.raises(ValueError):
        transport._request_bytes("GET", "api.weixin.qq.com", "/cgi-bin/x y", None, {})


def test_a_new_thread_sending_directly_builds_no_requests_session(served_account, wechat_server):
    from wechat import call_log, transport

    account = served_account(wechat_server)
    seen = {}

    def in_a_new_thread():  # as a push's sending thread: its call record is written by the thread that started it
        with call_log.deferred():
            try:
                http.call(account, Endpoint.TEMPLATE_SEND, json={"touser": "o"}, access_token=TOKEN)
            except Exception as exc:
                seen["error"] = exc
        seen["session"] = getattr(transport._local, "session", None)

    thread = threading.Thread(target=in_a_new_thread)
    thread.start()
    thread.join()
    assert seen == {"session": None}
    assert len(FakeWeChat.seen) == 1
    assert call_log.flush() == 1 and ApiCallLog.objects.get().endpoint == Endpoint.TEMPLATE_SEND.path

"""The web's gunicorn settings (``wxsite.gunicorn_conf``): a connection whose request was read whole is closed as
soon as its response is written, so a client that does not close its end cannot hold a sync worker."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.http.body import Body, ChunkedReader, LengthReader

from conftest import free_port, port_wait
from wxsite import gunicorn_conf

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
LINGER = 2.0  # how long gunicorn waits for a client to close after the response


@pytest.fixture(scope="module", params=["with the settings", "without them"])
def one_sync_worker(request):
    """gunicorn with one sync worker, as the web runs, on a free port; yields (port, whether the settings apply)."""
    port = free_port()
    configured = request.param == "with the settings"
    command = [GUNICORN, "tests.wsgi_tiny:application", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    command += ["--config", "python:wxsite.gunicorn_conf"] if configured else ["--config", "/dev/null"]
    server = subprocess.Popen([*command, "--log-level", "warning"], cwd=ROOT)
    try:
        port_wait(port, server, "gunicorn", seconds=30)
        yield port, configured
    finally:
        server.terminate()
        server.wait(timeout=30)


def _exchange(port: int, path: str) -> tuple[socket.socket, bytes]:
    """POST a small body with ``Connection: close``; read the whole response; leave the socket open."""
    client = socket.create_connection(("127.0.0.1", port), timeout=10)
    client.sendall(f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello".encode())
    response = b""
    while not response.endswith(b"\r\n\r\nok"):
        chunk = client.recv(4096)
        assert chunk, response
        response += chunk
    return client, response


def test_a_client_that_keeps_its_end_open_does_not_hold_the_worker(one_sync_worker):
    port, configured = one_sync_worker
    held, response = _exchange(port, "/read")
    assert response.startswith(b"HTTP/1.1 200")

    began = time.monotonic()
    other, response = _exchange(port, "/read")
    waited = time.monotonic() - began
    assert response.startswith(b"HTTP/1.1 200")
    if configured:
        assert waited < LINGER / 2
        assert held.recv(1) == b""  # the server's end is closed: the client sees the end of the stream
    else:
        # gunicorn's own close: the one worker waited for the first client until it gave up.
        assert waited >= LINGER * 0.9
    held.close()
    other.close()


def test_a_request_whose_body_was_not_read_keeps_the_graceful_close(one_sync_worker):
    port, _ = one_sync_worker
    held, response = _exchange(port, "/unread")
    assert response.endswith(b"ok")  # whole: no reset cut it short

    began = time.monotonic()
    other, _ = _exchange(port, "/read")
    # The unread body stayed in the kernel: closing at once could reset the connection under the response, so the
    # worker drained it and waited for the client, with the settings too.
    assert time.monotonic() - began >= LINGER * 0.9
    held.close()
    other.close()


# close_promptly on its own, over a real loopback connection


@pytest.fixture
def connection():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
        yield client, server
        client.close()
        server.close()


def _exchange_state(server: socket.socket, *, body: Body, close: bool = True):
    req = SimpleNamespace(body=body)
    resp = SimpleNamespace(sock=server, should_close=lambda: close)
    return req, resp


def _read_body(length: int) -> Body:
    return Body(LengthReader(None, length))


def test_a_whole_exchange_is_shut_both_ways(connection):
    client, server = connection
    req, resp = _exchange_state(server, body=_read_body(0))

    assert gunicorn_conf.close_promptly(req, resp) is True
    assert client.recv(1) == b""
    assert server.recv(1) == b""  # a linger read returns at once


@pytest.mark.parametrize(
    ("case", "body", "close", "pending"),
    [
        ("the body is not read to its end", _read_body(5), True, b""),
        ("a body of unknown length", Body(ChunkedReader(None, None)), True, b""),
        ("bytes wait in the kernel (a pipelined request)", _read_body(0), True, b"GET / HTTP/1.1\r\n"),
        ("the connection is kept alive", _read_body(0), False, b""),
    ],
)
def test_otherwise_the_connection_is_left_to_gunicorn(connection, case, body, close, pending):
    client, server = connection
    if pending:
        client.sendall(pending)
        time.sleep(0.05)
    req, resp = _exchange_state(server, body=body, close=close)

    assert gunicorn_conf.close_promptly(req, resp) is False
    client.sendall(b"x")  # still open both ways
    assert server.recv(64) == pending + b"x"


def test_a_tls_socket_keeps_the_graceful_close(connection):
    _, server = connection

    class TLSLike(socket.socket):
        def recv(self, size, flags=0):
            if flags:
                raise ValueError("non-zero flags not allowed in calls to recv() on <class 'ssl.SSLSocket'>")
            return super().recv(size)

    tls = TLSLike(fileno=server.detach())
    req, resp = _exchange_state(tls, body=_read_body(0))
    try:
        assert gunicorn_conf.close_promptly(req, resp) is False
    finally:
        tls.close()


def test_the_web_image_serves_with_these_settings():
    command = next(line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD "))
    assert '"gunicorn", "wxsite.wsgi:application", "--config", "python:wxsite.gunicorn_conf"' in command

"""gunicorn settings of the web: ``gunicorn -c python:wxsite.gunicorn_conf wxsite.wsgi:application``.

A connection that ends with its response is closed at once when its request was read whole. gunicorn closes it
gracefully (RFC 9112 §9.6): it sends FIN, then reads until the client closes too, for up to 2 seconds, so that
request bytes left unread cannot make the kernel answer with a reset that truncates the response. With nothing
left unread there is nothing to protect, but a sync worker would still wait a round trip for the client, and
up to 2 seconds for one that never closes. WeChat's pushes come straight from the internet, one connection
each: a few such clients would hold every worker. Requests whose body is not read whole keep gunicorn's
graceful close.
"""

from __future__ import annotations

import socket

from gunicorn.http.body import LengthReader


def read_whole(req) -> bool:
    """True if the request's body (of a known length) was read to its end, by the application or by gunicorn."""
    reader = getattr(getattr(req, "body", None), "reader", None)
    return isinstance(reader, LengthReader) and reader.length == 0


def nothing_unread(sock: socket.socket) -> bool:
    """True if no byte from the client waits in the kernel (a pipelined request, data sent after the body). A TLS
    socket cannot be peeked at (gunicorn's own TLS): it keeps the graceful close."""
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return True
    except (OSError, ValueError):
        return False


def close_promptly(req, resp) -> bool:
    """Shut the connection of a finished exchange both ways when it ends here and nothing was left unread: the
    worker's own close then finds no byte to wait for. Returns whether it did."""
    sock = getattr(resp, "sock", None)
    if sock is None or not resp.should_close() or not read_whole(req) or not nothing_unread(sock):
        return False
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        return False
    return True


def post_request(worker, req, environ, resp):
    if resp is not None:
        close_promptly(req, resp)

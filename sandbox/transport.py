"""A requests adapter that answers in-process from the sandbox's private URLconf (``sandbox.inprocess_urls``).

Mounted by ``wechat.transport`` for ``http://sandbox.inprocess/`` when ``SANDBOX_ENABLED``: the gateway talks
to the sandbox (and the sandbox to the callback) with no port and no thread. The resolved view is called
directly: no middleware and no request signals, so the caller's database connection and transaction are left
alone. Only machine-to-machine views (the sandbox API, the callback) are reached this way, whether or not
``/sandbox/`` is mounted on the public site.
"""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import requests
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponseNotFound
from django.urls import Resolver404, resolve
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

TIMEOUT_HEADER = "X-Sandbox-Timeout"
URLCONF = "sandbox.inprocess_urls"


def _dispatch(django_request: WSGIRequest):
    try:
        match = resolve(django_request.path_info, urlconf=URLCONF)
    except Resolver404:
        return HttpResponseNotFound()
    return match.func(django_request, *match.args, **match.kwargs)


class InProcessAdapter(BaseAdapter):
    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        url = urlsplit(request.url)
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        environ = {
            "REQUEST_METHOD": request.method,
            "PATH_INFO": url.path,
            "QUERY_STRING": url.query,
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "HTTP_HOST": "testserver",
            "REMOTE_ADDR": "127.0.0.1",
            "SCRIPT_NAME": "",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": io.StringIO(),
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in request.headers.items():
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif key != "CONTENT_LENGTH":
                environ["HTTP_" + key] = value
        django_response = _dispatch(WSGIRequest(environ))
        if django_response.get(TIMEOUT_HEADER):
            raise requests.exceptions.ReadTimeout(f"sandbox timeout for {request.url}", request=request)
        response = requests.Response()
        response.status_code = django_response.status_code
        response.headers = CaseInsensitiveDict(django_response.items())
        response._content = b"".join(django_response) if django_response.streaming else django_response.content
        response.encoding = "utf-8"
        response.url = request.url
        response.request = request
        response.reason = django_response.reason_phrase
        return response

    def close(self):
        pass

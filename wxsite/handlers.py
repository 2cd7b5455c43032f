"""The WSGI application: WeChat's callback through a short middleware list, every other path through the whole one.

The callback is called by WeChat's servers, never by a browser: it has no session, user, language, messages, htmx
or frame to look after, and those middleware cost as much as the bare view itself. It keeps what guards the
transport (``SecurityMiddleware``: HTTPS redirect, HSTS, nosniff) and URL normalisation (``CommonMiddleware``).
"""

from __future__ import annotations

import re

import django
from celery import current_app as current_celery_app
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

from wxsite.heap import heap_freeze

# messaging.inbound.urls' "callback" route; a test holds the two together.
CALLBACK_PATH = re.compile(r"/wechat/[^/]+/callback/")


def _handler_with(middleware: list[str]) -> WSGIHandler:
    # Django builds the chain from settings.MIDDLEWARE: the list is swapped for the time it takes, once, at startup.
    full = settings.MIDDLEWARE
    settings.MIDDLEWARE = middleware
    try:
        return WSGIHandler()
    finally:
        settings.MIDDLEWARE = full


class WxsiteWSGIHandler:
    def __init__(self):
        self.pages = WSGIHandler()
        self.callback = _handler_with(settings.CALLBACK_MIDDLEWARE)

    def __call__(self, environ, start_response):
        handler = self.callback if CALLBACK_PATH.fullmatch(environ.get("PATH_INFO", "")) else self.pages
        return handler(environ, start_response)


def wsgi_application() -> WxsiteWSGIHandler:
    """What ``django.core.wsgi.get_wsgi_application`` does, with this handler; the task modules loaded, then
    ``heap_freeze``."""
    django.setup(set_prefix=False)
    handler = WxsiteWSGIHandler()
    # The first callback would otherwise import every app's Celery tasks module (``jobs.task``) while WeChat waits.
    current_celery_app.loader.import_default_modules()
    heap_freeze()
    return handler

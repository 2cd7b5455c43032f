"""Every REST endpoint checks its model permission and the account grant.

The endpoints are read from the resolver of ``wxsite.api_urls``, so one added later is walked too; what a test
needs per endpoint (an object for ``<pk>``, a valid body) is looked up by URL name and model and fails loudly
when missing, rather than letting the endpoint go untested.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission, User
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import TokenFactory
from messaging.mass.models import MassMessage
from messaging.mass.tests.factories import MassMessageFactory
from messaging.templatemsg import services as template_services
from messaging.templatemsg.models import TemplateMessage
from messaging.templatemsg.tests.template_support import ORDER_DATA, ORDER_TEMPLATE_ID, add_followers, seed_template

OTHER_APPID = "wx00000000000000ff"
HANDLED = ("get", "post", "put", "patch", "delete")


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _endpoints():
    for route, entry in _walk(get_resolver("wxsite.api_urls").url_patterns):
        view = entry.callback.view_class
        for method in HANDLED:
            if hasattr(view, method):
                yield pytest.param(route, entry.name, view, method.upper(), id=f"{method.upper()} {route}")


ENDPOINTS = list(_endpoints())


def _perm(view, method) -> Permission:
    label = (getattr(view, "required_perms", None) or {}).get(method)
    assert label, f"{view.__name__} names no permission for {method}"
    app_label, codename = label.split(".", 1)
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def _objects(account, sandbox_app):
    """One object per model a ``<pk>`` route can name, for ``account``."""
    later = timezone.now() + timedelta(hours=1)
    mass = MassMessageFactory(
        account=account, title="t", msgtype="text", content="hi", audience="all", status="scheduled", scheduled_at=later
    )
    template = seed_template(sandbox_app, account)
    openid = add_followers(account, sandbox_app, 1, prefix=f"o{account.pk}")[0]
    message, _ = template_services.template_message_create(account=account, openid=openid, template=template, data=ORDER_DATA)
    return {MassMessage: mass, TemplateMessage: message}, openid


# What a successful call sends, by URL name and method.
BODIES = {
    ("api-mass-messages", "POST"): lambda openid: {"title": "t", "msgtype": "text", "content": "hi", "audience": "all"},
    ("api-mass-message-cancel", "POST"): lambda openid: {"reason": "test"},
    ("api-template-messages", "POST"): lambda openid: {"touser": openid, "template_id": ORDER_TEMPLATE_ID, "data": ORDER_DATA},
}
QUERIES = {
    "api-jssdk-config": {"url": "https://shop.example.com/"},
    "api-jssdk-config-no-slash": {"url": "https://shop.example.com/"},
}


@pytest.fixture
def world(make_account, account, sandbox_app):
    from sandbox.models import SandboxApp

    account.js_domains = "shop.example.com"
    account.save()
    other = make_account(appid=OTHER_APPID)
    mine, openid = _objects(account, sandbox_app)
    theirs, _ = _objects(other, SandboxApp.objects.get(appid=other.appid))
    return {"account": account, "other": other, "mine": mine, "theirs": theirs, "openid": openid}


def _client(*, perms, accounts):
    user = User.objects.create_user(f"api-{User.objects.count()}")
    user.user_permissions.add(*perms)
    for account in accounts:
        account.operators.add(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory(user=user).key}")
    return client


def _url(route, view, method, *, appid, objects):
    path = route.replace("<str:appid>", appid)
    if "<int:pk>" in path:
        model = apps.get_model(_perm(view, method).content_type.app_label, _perm(view, method).content_type.model)
        assert model in objects, f"no test object for {model.__name__}; add it to _objects()"
        path = path.replace("<int:pk>", str(objects[model].pk))
    assert "<" not in path, f"unknown converter in {route}"
    return "/api/v1/" + path


def _call(client, name, method, url, openid):
    if method == "GET":
        return client.get(url, QUERIES.get(name, {}))
    body = BODIES.get((name, method))
    assert body is not None, f"no test body for {method} {name}; add it to BODIES"
    return client.generic(method, url, data=json.dumps(body(openid)), content_type="application/json")


def test_the_walk_finds_the_endpoints_of_every_api_module():
    names = {param.values[1] for param in ENDPOINTS}
    assert {"api-access-token", "api-jssdk-config", "api-template-messages", "api-mass-messages"} <= names


@pytest.mark.parametrize(("route", "name", "view", "method"), ENDPOINTS)
def test_a_token_without_the_needed_permission_is_refused_with_403(world, route, name, view, method):
    needed = _perm(view, method)
    client = _client(perms=Permission.objects.exclude(pk=needed.pk), accounts=[world["account"]])
    url = _url(route, view, method, appid=world["account"].appid, objects=world["mine"])
    before = (MassMessage.objects.count(), TemplateMessage.objects.count())
    response = _call(client, name, method, url, world["openid"])
    assert response.status_code == 403, response.content
    assert (MassMessage.objects.count(), TemplateMessage.objects.count()) == before


@pytest.mark.parametrize(("route", "name", "view", "method"), ENDPOINTS)
def test_another_accounts_appid_is_404_even_with_the_permission(world, route, name, view, method):
    client = _client(perms=[_perm(view, method)], accounts=[world["account"]])
    url = _url(route, view, method, appid=world["other"].appid, objects=world["theirs"])
    assert _call(client, name, method, url, world["openid"]).status_code == 404


@pytest.mark.parametrize(("route", "name", "view", "method"), [p for p in ENDPOINTS if "<int:pk>" in p.values[0]])
def test_another_accounts_object_id_under_my_appid_is_404(world, route, name, view, method):
    client = _client(perms=[_perm(view, method)], accounts=[world["account"]])
    url = _url(route, view, method, appid=world["account"].appid, objects=world["theirs"])
    assert _call(client, name, method, url, world["openid"]).status_code == 404


@pytest.mark.parametrize(("route", "name", "view", "method"), ENDPOINTS)
def test_exactly_the_needed_permission_and_the_grant_succeed(world, route, name, view, method):
    client = _client(perms=[_perm(view, method)], accounts=[world["account"]])
    url = _url(route, view, method, appid=world["account"].appid, objects=world["mine"])
    response = _call(client, name, method, url, world["openid"])
    assert 200 <= response.status_code < 300, response.content


@pytest.mark.parametrize(("route", "name", "view", "method"), ENDPOINTS)
def test_anonymous_is_401(world, route, name, view, method):
    url = _url(route, view, method, appid=world["account"].appid, objects=world["mine"])
    assert _call(APIClient(), name, method, url, world["openid"]).status_code == 401


def test_the_read_token_permission_alone_cannot_create_a_mass_send(world):
    client = _client(perms=[Permission.objects.get(codename="borrow_access_token")], accounts=[world["account"]])
    response = client.post(
        f"/api/v1/accounts/{world['account'].appid}/mass-messages/",
        {"title": "t", "msgtype": "text", "content": "hi", "audience": "all"},
        format="json",
    )
    assert response.status_code == 403
    assert MassMessage.objects.count() == 2

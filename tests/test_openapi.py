"""The OpenAPI description: valid, complete (every route of wxsite.api_urls), with permissions and errors; docs offline."""

from __future__ import annotations

import re

import pytest
import yaml
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

HANDLED = ("get", "post", "put", "patch", "delete")


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _operations():
    """(OpenAPI path, method, view) of every route and handled method of the REST API, read from its resolver."""
    for route, entry in _walk(get_resolver("wxsite.api_urls").url_patterns):
        view = entry.callback.view_class
        path = "/api/v1/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "{%s}" % ("id" if m[1] == "pk" else m[1]), route)
        for method in HANDLED:
            if hasattr(view, method):
                yield path, method, view


OPERATIONS = list(_operations())


@pytest.fixture(scope="module")
def schema(tmp_path_factory, django_db_blocker):
    target = tmp_path_factory.mktemp("schema") / "schema.yaml"
    with django_db_blocker.unblock():
        # Fails on any warning (an undocumented body, a colliding operation id) and on an invalid document.
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    return yaml.safe_load(target.read_text())


def test_the_walk_finds_the_api(schema):
    assert len(OPERATIONS) >= 9
    assert schema["openapi"].startswith("3.")


def test_every_api_route_and_method_is_documented_and_nothing_else(schema):
    expected = {(path, method) for path, method, _view in OPERATIONS}
    documented = {(path, method) for path, item in schema["paths"].items() for method in item if method in HANDLED}
    assert documented == expected


@pytest.mark.parametrize(("path", "method", "view"), OPERATIONS, ids=[f"{m.upper()} {p}" for p, m, _ in OPERATIONS])
def test_each_operation_states_its_permission_and_errors(schema, path, method, view):
    operation = schema["paths"][path][method]
    perm = view.required_perms[method.upper()]
    assert operation["x-required-permission"] == perm
    assert f"`{perm}`" in operation["description"]
    responses = operation["responses"]
    assert {"401", "403", "404"} <= set(responses)
    assert any(code.startswith("2") for code in responses)
    if method == "post":
        assert "400" in responses and "requestBody" in operation
    for code, response in responses.items():
        assert response["description"] or code.startswith("2"), f"{code} of {method} {path} is not described"


def test_wechat_errors_are_documented_where_the_view_calls_wechat(schema):
    for path in ("/api/v1/accounts/{appid}/access-token/", "/api/v1/accounts/{appid}/jssdk-config/"):
        error = schema["paths"][path]["get"]["responses"]["502"]["content"]["application/json"]["schema"]["$ref"]
        assert error == "#/components/schemas/WeChatError"
    fields = schema["components"]["schemas"]["WeChatError"]["properties"]
    assert set(fields) == {"errcode", "errmsg", "meaning_zh", "meaning_en"}


def test_the_send_apis_document_the_idempotency_key(schema):
    for path in ("/api/v1/accounts/{appid}/mass-messages/", "/api/v1/accounts/{appid}/template-messages/"):
        operation = schema["paths"][path]["post"]
        assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in operation["parameters"])
        assert "422" in operation["responses"]


def test_the_path_without_its_slash_is_documented_as_deprecated(schema):
    assert schema["paths"]["/api/v1/accounts/{appid}/jssdk-config"]["get"]["deprecated"] is True


@pytest.mark.django_db
def test_the_schema_is_served_to_anyone_in_the_requested_language():
    client = APIClient()
    zh = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert zh.status_code == 200
    assert "所需权限：`mass.add_massmessage`" in zh.content.decode()
    en = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json", HTTP_ACCEPT_LANGUAGE="en")
    assert "Permission: `mass.add_massmessage`" in en.content.decode()


@pytest.mark.django_db
def test_the_docs_page_loads_swagger_ui_from_our_own_static_files(client):
    page = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert not re.search(r"""(src|href)=["']https?://""", page)

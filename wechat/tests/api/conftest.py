"""Helpers for proving wechat.api against the sandbox: what it received, and faults it injects."""

import pytest

from sandbox.models import SandboxCall, SandboxFollower
from sandbox.tests.factories import SandboxFaultFactory
from wechat.api.endpoints import Endpoint


@pytest.fixture
def received():
    """The request bodies (JSON, or the query without credentials) the sandbox answered for an endpoint, oldest first."""

    def bodies(endpoint: Endpoint) -> list:
        return list(SandboxCall.objects.filter(api=endpoint.path).order_by("id").values_list("request_json", flat=True))

    return bodies


@pytest.fixture
def errcodes():
    def codes(endpoint: Endpoint) -> list[int]:
        return list(SandboxCall.objects.filter(api=endpoint.path).order_by("id").values_list("errcode", flat=True))

    return codes


@pytest.fixture
def fault(sandbox_app):
    """The sandbox answers the next ``times`` calls of ``endpoint`` with ``errcode``."""

    def inject(endpoint: Endpoint, errcode: int, *, times: int | None = 1) -> None:
        SandboxFaultFactory(app=sandbox_app, api=endpoint.path, kind="errcode", value=errcode, remaining=times)

    return inject


@pytest.fixture
def followers(sandbox_app):
    """WeChat's side of ``n`` followers (their openids), optionally with tags or blacklisted."""

    def make(n: int, *, prefix: str = "oApi", **fields) -> list[str]:
        openids = [f"{prefix}{i:024d}" for i in range(n)]
        SandboxFollower.objects.bulk_create([SandboxFollower(app=sandbox_app, openid=o, **fields) for o in openids])
        return openids

    return make

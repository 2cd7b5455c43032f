"""WeChat's own addresses (API.md §3): the IPs its callbacks come from."""

from __future__ import annotations

from wechat import gateway

from .endpoints import Endpoint


def callback_ips(*, account) -> list[str]:
    """The addresses WeChat's callbacks come from."""
    return list(gateway.call(account, Endpoint.CALLBACK_IP)["ip_list"])

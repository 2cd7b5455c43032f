from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import sample_json
from sandbox.models import SandboxQRCode
from wechat.api import qrcodes
from wechat.api.endpoints import QRCODE_SHOW_URL, Endpoint
from wechat.errors import WeChatError


def test_temporary_code_sends_the_samples_shape_with_one_scene_and_returns_ticket_url_and_expiry(account, received):
    code = qrcodes.qrcode_create(account=account, permanent=False, scene_id=123, expire_seconds=604800)

    sample = sample_json("api/qrcode_create_request_skit.json")
    # The sample's SDK model carries both scene fields; a real request sends only the one its action names.
    assert received(Endpoint.QRCODE_CREATE) == [{**sample, "action_info": {"scene": {"scene_id": 123}}}]
    assert code.expire_seconds == 604800 and code.ticket and code.url.startswith("http://weixin.qq.com/q/")
    stored = SandboxQRCode.objects.get(ticket=code.ticket)
    assert (stored.scene, stored.permanent) == ("123", False)
    assert stored.expires_at - stored.created_at == timedelta(seconds=604800)


def test_the_recorded_response_parses():
    code = qrcodes.qrcode_parse(sample_json("api/qrcode_create_response.json"))
    assert code.expire_seconds == 1800 and code.url == "https://weixin.qq.com/q/kZgfwMTm72WWPkovabbI"
    assert code.ticket.startswith("gQH47joAAAAAAAAAASxodHRw")


@pytest.mark.parametrize(
    ("permanent", "scene", "action"),
    [
        (False, {"scene_str": "shop_7"}, "QR_STR_SCENE"),
        (True, {"scene_id": 100_000}, "QR_LIMIT_SCENE"),
        (True, {"scene_str": "s" * 64}, "QR_LIMIT_STR_SCENE"),
    ],
)
def test_each_action_name_is_chosen_from_kind_and_scene(account, received, permanent, scene, action):
    code = qrcodes.qrcode_create(account=account, permanent=permanent, expire_seconds=None if permanent else 60, **scene)
    body = received(Endpoint.QRCODE_CREATE)[0]
    assert body["action_name"] == action and body["action_info"] == {"scene": scene}
    assert ("expire_seconds" in body) is not permanent
    assert (code.expire_seconds is None) is permanent


def test_a_permanent_scene_keeps_its_ticket(account):
    first = qrcodes.qrcode_create(account=account, permanent=True, scene_str="store_1")
    assert qrcodes.qrcode_create(account=account, permanent=True, scene_str="store_1") == first


@pytest.mark.parametrize(
    ("permanent", "fields"),
    [
        (False, {"scene_id": 1, "expire_seconds": 2_592_001}),
        (False, {"scene_id": 1, "expire_seconds": 0}),
        (False, {"scene_id": 1}),
        (False, {"scene_id": 0, "expire_seconds": 60}),
        (False, {"scene_id": 2**32, "expire_seconds": 60}),
        (True, {"scene_id": 100_001}),
        (True, {"scene_id": 0}),
        (True, {"scene_str": "s" * 65}),
        (True, {"scene_id": 5, "scene_str": "both"}),
        (True, {}),
        (True, {"scene_id": 5, "expire_seconds": 60}),
    ],
)
def test_limits_are_refused_before_calling(account, received, permanent, fields):
    with pytest.raises(ValueError):
        qrcodes.qrcode_create(account=account, permanent=permanent, **fields)
    assert received(Endpoint.QRCODE_CREATE) == []


def test_limits_at_the_edge_are_accepted(account):
    assert qrcodes.qrcode_create(account=account, permanent=False, scene_id=2**32 - 1, expire_seconds=2_592_000).ticket
    assert qrcodes.qrcode_create(account=account, permanent=True, scene_id=1).ticket


@pytest.mark.parametrize(
    "body",
    [
        {"expire_seconds": 2_592_001, "action_name": "QR_SCENE", "action_info": {"scene": {"scene_id": 1}}},
        {"action_name": "QR_LIMIT_SCENE", "action_info": {"scene": {"scene_id": 100_001}}},
        {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": "s" * 65}}},
        # The common bug: scene_id beside, not inside, scene.
        {"action_name": "QR_LIMIT_SCENE", "action_info": {"scene_id": 5}},
        {"action_name": "QR_WHATEVER", "action_info": {"scene": {"scene_id": 5}}},
    ],
)
def test_the_sandbox_refuses_what_wechat_refuses(account, body):
    from wechat import gateway

    with pytest.raises(WeChatError) as refused:
        gateway.call(account, Endpoint.QRCODE_CREATE, json=body)
    assert refused.value.errcode == 40035
    assert not SandboxQRCode.objects.exists()


def test_wechat_errors_reach_the_caller(account, fault):
    fault(Endpoint.QRCODE_CREATE, 45009)
    with pytest.raises(WeChatError) as refused:
        qrcodes.qrcode_create(account=account, permanent=True, scene_id=1)
    assert refused.value.errcode == 45009


def test_the_show_link_url_encodes_the_ticket():
    ticket = sample_json("api/qrcode_create_response.json")["ticket"]
    link = qrcodes.qrcode_show_url(ticket)
    assert link.startswith(QRCODE_SHOW_URL + "?ticket=") and "=" not in link.split("ticket=")[1]
    assert parse_qs(urlsplit(link).query)["ticket"] == [ticket]

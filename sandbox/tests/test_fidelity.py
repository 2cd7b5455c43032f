"""The sandbox answers as WeChat does, checked against recorded samples: never kinder than WeChat."""

from __future__ import annotations

import pytest

from conftest import sample_json
from sandbox.generator import follower_fields
from sandbox.models import SandboxDelivery, SandboxFollower, SandboxTemplate
from wechat import errors
from wechat.gateway import client_for

TEMPLATE_ID = "ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY"


def template_send(account, openid: str) -> dict:
    body = {"touser": openid, "template_id": TEMPLATE_ID, "data": {"thing1": {"value": "巧克力"}}}
    return client_for(account).post("message/template/send", data=body)


@pytest.fixture
def template(sandbox_app):
    return SandboxTemplate.objects.create(app=sandbox_app, template_id=TEMPLATE_ID, title="订单", content="{{thing1.DATA}}")


# Template sends -------------------------------------------------------------------------------------------------


def test_template_send_to_a_follower_who_unfollowed_is_43004_require_subscribe(account, sandbox_app, template):
    SandboxFollower.objects.create(app=sandbox_app, openid="oUnfollowed000000000000000001", subscribed=False)
    with pytest.raises(errors.WeChatError) as refused:
        template_send(account, "oUnfollowed000000000000000001")
    assert refused.value.errcode == 43004
    assert refused.value.errmsg.startswith("require subscribe")
    assert not SandboxDelivery.objects.filter(channel="template").exists()


def test_template_send_to_an_openid_the_account_never_had_is_40003(account, sandbox_app, template):
    with pytest.raises(errors.WeChatError) as refused:
        template_send(account, "oNeverFollowed00000000000001")
    assert refused.value.errcode == 40003


# Generated followers --------------------------------------------------------------------------------------------


def test_generated_unionids_are_as_long_as_wechats(sandbox_app):
    real = [u["unionid"] for u in sample_json("api/user_info_batchget_response_legacy.json")["user_info_list"]]
    assert {len(u) for u in real} == {28}
    generated = [f["unionid"] for f in (follower_fields(sandbox_app.appid, i, []) for i in range(60)) if f["unionid"]]
    assert generated
    assert {len(u) for u in generated} == {28}
    assert all(u.startswith("o") and u.replace("-", "").replace("_", "").isalnum() for u in generated)

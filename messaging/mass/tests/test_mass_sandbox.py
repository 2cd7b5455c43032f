"""The sandbox's mass-send endpoints answer as WeChat does (shapes from tests/samples/api)."""

import pytest

from conftest import sample_json
from messaging.mass.tests.test_mass import account_app, make_followers, openid
from sandbox.models import SandboxDelivery
from sandbox.tests.factories import SandboxFaultFactory
from wechat.api.endpoints import Endpoint
from wechat.errors import WeChatError
from wechat.gateway import client_for


def post(account, path, body):
    return client_for(account).post(path, data=body)


def errcode(account, path, body):
    with pytest.raises(WeChatError) as exc:
        post(account, path, body)
    return exc.value.errcode


def test_sendall_answer_has_the_documented_shape(account, sandbox_app):
    make_followers(account, sandbox_app, 2)
    answer = post(account, "message/mass/sendall", sample_json("api/mass_sendall_request_text_to_all.json"))
    documented = sample_json("api/message_mass_sendall_response.json")
    assert set(documented) - {"msg_data_id"} <= set(answer)
    assert answer["errmsg"] == documented["errmsg"]


def test_list_of_one_or_over_ten_thousand_is_40032(account, sandbox_app):
    body = sample_json("api/mass_send_request_openids_text.json")
    assert errcode(account, "message/mass/send", {**body, "touser": [openid(1)]}) == 40032
    assert errcode(account, "message/mass/send", {**body, "touser": [openid(i) for i in range(10_001)]}) == 40032


def test_unknown_openid_in_a_list_is_40003(account, sandbox_app):
    ids = make_followers(account, sandbox_app, 1)
    body = {**sample_json("api/mass_send_request_openids_text.json"), "touser": [ids[0], openid(77)]}
    assert errcode(account, "message/mass/send", body) == 40003
    assert not SandboxDelivery.objects.filter(channel="mass").exists()


def test_clientmsgid_over_64_bytes_is_45067(account, sandbox_app):
    body = {**sample_json("api/mass_sendall_request_text_to_all.json"), "clientmsgid": "x" * 65}
    assert errcode(account, "message/mass/sendall", body) == 45067


def test_subscription_account_cannot_send_by_openid_list(make_account):
    account = make_account(account_type="subscription")
    ids = make_followers(account, account_app(account), 2)
    body = {**sample_json("api/mass_send_request_openids_text.json"), "touser": ids}
    assert errcode(account, "message/mass/send", body) == 48001


def test_unknown_message_type_and_missing_media(account, sandbox_app):
    assert errcode(account, "message/mass/sendall", {"filter": {"is_to_all": True}, "msgtype": "fax", "fax": {}}) == 40008
    assert errcode(account, "message/mass/sendall", sample_json("api/mass_sendall_request_images.json")) == 40007


def test_sendall_to_an_unknown_tag_is_45159(account, sandbox_app):
    body = {"filter": {"is_to_all": False, "tag_id": 4242}, "msgtype": "text", "text": {"content": "x"}}
    assert errcode(account, "message/mass/sendall", body) == 45159


def test_get_unknown_msg_id_and_speed_out_of_range(account, sandbox_app):
    assert errcode(account, "message/mass/get", {"msg_id": 1}) == 40035
    assert errcode(account, "message/mass/speed/set", {"speed": 9}) == 45083


def test_clientmsgid_is_remembered_for_24_hours_then_sends_again(account, sandbox_app):
    make_followers(account, sandbox_app, 2)
    body = sample_json("api/mass_sendall_request_text_to_all.json")
    first = post(account, "message/mass/sendall", body)
    sandbox_app.clock_offset = 23 * 3600 + 3599
    sandbox_app.save(update_fields=["clock_offset"])
    assert errcode(account, "message/mass/sendall", body) == 45065

    sandbox_app.clock_offset = 24 * 3600
    sandbox_app.save(update_fields=["clock_offset"])
    again = post(account, "message/mass/sendall", body)

    assert again["msg_id"] != first["msg_id"]
    assert SandboxDelivery.objects.filter(channel="mass").count() == 4  # WeChat has forgotten it: a second send


def test_timeout_after_effect_loses_an_error_answer_too(account, sandbox_app):
    from wechat.errors import TIMEOUT

    make_followers(account, sandbox_app, 2)
    body = sample_json("api/mass_sendall_request_text_to_all.json")
    post(account, "message/mass/sendall", body)
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.MASS_SENDALL.path, kind="timeout_after", remaining=1)

    assert errcode(account, "message/mass/sendall", body) == TIMEOUT  # WeChat answered 45065; the answer was lost

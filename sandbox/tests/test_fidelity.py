"""The sandbox answers as WeChat does, checked against recorded samples: never kinder than WeChat."""

from __future__ import annotations

import pytest

from conftest import sample_json, sample_text
from messaging.inbound.models import InboundMessage
from sandbox.endpoints.mass import mass_job_finish
from sandbox.generator import follower_fields
from sandbox.models import SandboxDelivery, SandboxFault, SandboxTemplate
from sandbox.tests.factories import SandboxFaultFactory, SandboxFollowerFactory
from wechat import crypto, errors
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
    SandboxFollowerFactory(app=sandbox_app, openid="oUnfollowed000000000000000001", subscribed=False)
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


# MASSSENDJOBFINISH ----------------------------------------------------------------------------------------------

OPENIDS = ["oMassFollower0000000000000001", "oMassFollower0000000000000002"]


def mpnews_job(app, *, send_ignore_reprint: int = 0, msg_id: str = "1000001625") -> SandboxDelivery:
    """An accepted mpnews send as mass/sendall leaves it (the sandbox issues no article media_id yet)."""
    for openid in OPENIDS:
        SandboxFollowerFactory(app=app, openid=openid)
    content = {"msgtype": "mpnews", "mpnews": {"media_id": "draft-1"}, "send_ignore_reprint": send_ignore_reprint}
    SandboxDelivery.objects.bulk_create(
        [SandboxDelivery(app=app, openid=o, channel="mass", msgtype="mpnews", payload=content, msg_id=msg_id) for o in OPENIDS]
    )
    payload = {"clientmsgid": "", "api": "sendall", "status": "SENDING", "total": 2, "filter": 2, "sent": 2, "error": 0}
    return SandboxDelivery.objects.create(
        app=app, openid="", channel="mass_job", msgtype="mpnews", msg_id=msg_id, payload={**payload, "deleted_idx": []}
    )


def pushed_event(account) -> dict:
    return InboundMessage.objects.get(account=account, event="MASSSENDJOBFINISH").payload


def sample_event() -> dict:
    return crypto.parse_xml(sample_text("inbound/event_masssendjobfinish.xml"), max_bytes=1 << 20)


def test_err_fault_ends_the_job_with_a_real_err_status_and_reaches_nobody(account, sandbox_app):
    job = mpnews_job(sandbox_app)
    SandboxFaultFactory(app=sandbox_app, api="MASSSENDJOBFINISH", kind="errcode", value=10001, remaining=1)
    mass_job_finish(job.pk)
    event = pushed_event(account)
    assert event["Status"] == "err(10001)"
    assert [event[k] for k in ("TotalCount", "FilterCount", "SentCount", "ErrorCount")] == ["0", "0", "0", "0"]
    assert event["CopyrightCheckResult"]["CheckState"] == "1"
    assert not SandboxDelivery.objects.filter(channel="mass").exists()
    job.refresh_from_db()
    assert job.payload["status"] == "SEND_FAIL"


def test_reprint_fault_sends_the_copyright_check_result_shaped_like_wechats(account, sandbox_app):
    job = mpnews_job(sandbox_app)
    SandboxFaultFactory(app=sandbox_app, api="MASSSENDJOBFINISH", kind="errcode", value=30003, remaining=1)
    mass_job_finish(job.pk)
    event, sample = pushed_event(account), sample_event()
    assert set(event) - {"ToUserName"} == set(sample) - {"ToUserName"}
    assert event["Status"] == sample["Status"] == "err(30003)"
    check, sample_check = event["CopyrightCheckResult"], sample["CopyrightCheckResult"]
    assert set(check) == set(sample_check)
    assert (check["Count"], check["CheckState"]) == ("1", sample_check["CheckState"])
    item = check["ResultList"]["item"]
    assert set(item) == set(sample_check["ResultList"]["item"][0])
    assert (item["ArticleIdx"], item["CanReprint"], item["NeedReplaceContent"]) == ("1", "1", "1")
    assert not SandboxDelivery.objects.filter(channel="mass").exists()


def test_reprint_that_may_not_be_reprinted_is_err_30002_with_check_state_3(account, sandbox_app):
    job = mpnews_job(sandbox_app, send_ignore_reprint=1)
    SandboxFaultFactory(app=sandbox_app, api="MASSSENDJOBFINISH", kind="errcode", value=30002, remaining=1)
    mass_job_finish(job.pk)
    event = pushed_event(account)
    assert event["Status"] == "err(30002)"
    assert event["CopyrightCheckResult"]["CheckState"] == "3"
    assert event["CopyrightCheckResult"]["ResultList"]["item"]["CanReprint"] == "0"
    assert not SandboxDelivery.objects.filter(channel="mass").exists()


def test_reprint_is_sent_anyway_when_the_send_ignores_reprints(account, sandbox_app):
    job = mpnews_job(sandbox_app, send_ignore_reprint=1)
    SandboxFaultFactory(app=sandbox_app, api="MASSSENDJOBFINISH", kind="errcode", value=30003, remaining=1)
    mass_job_finish(job.pk)
    event = pushed_event(account)
    assert event["Status"] == "send success"
    assert event["SentCount"] == "2"
    assert event["CopyrightCheckResult"]["CheckState"] == "2"
    assert SandboxDelivery.objects.filter(channel="mass").count() == 2


def test_job_finish_without_a_fault_is_a_success_with_no_reprint(account, sandbox_app):
    job = mpnews_job(sandbox_app)
    SandboxFaultFactory(app=sandbox_app, api="*", kind="errcode", value=10001, remaining=1)  # for API calls only
    mass_job_finish(job.pk)
    event = pushed_event(account)
    assert (event["Status"], event["SentCount"]) == ("send success", "2")
    assert event["CopyrightCheckResult"]["CheckState"] == "1"
    assert SandboxFault.objects.get().remaining == 1

"""Templates (pull/add/delete), data validation, single sends and TEMPLATESENDJOBFINISH results."""

from __future__ import annotations

import pytest
from celery.exceptions import Retry
from django.core.exceptions import ValidationError

from conftest import sample_json, sample_text
from messaging.inbound.models import InboundMessage
from messaging.inbound.tests.callback_client import post_callback
from messaging.templatemsg import services, tasks
from messaging.templatemsg.models import MessageTemplate, TemplateMessage
from messaging.templatemsg.tests.factories import MessageTemplateFactory, TemplateMessageFactory
from messaging.templatemsg.validation import data_validate, keywords_from_content
from sandbox.models import (
    SandboxDelivery,
    SandboxFollower,
    SandboxTemplate,
    SandboxTemplateReceiver,
    SandboxTemplateSend,
    SandboxTemplateSettings,
)
from sandbox.tests.factories import SandboxFaultFactory
from wechat.api.endpoints import Endpoint
from wechat.errors import WeChatError, WeChatTimeout

from .template_support import ORDER_DATA, ORDER_TEMPLATE_ID, _template_settings, add_followers, seed_template  # noqa: F401

Status = TemplateMessage.Status


# Templates ----------------------------------------------------------------------------------------------------


def test_pull_stores_the_sample_template_with_its_keywords_and_drops_vanished_ones(account, sandbox_app):
    item = sample_json("api/template_get_all_private_template_response.json")["template_list"][0]
    SandboxTemplate.objects.create(app=sandbox_app, **item)
    MessageTemplateFactory(account=account, template_id="gone-at-wechat", title="old")

    result = services.message_templates_pull(account=account)

    assert result == {"count": 1, "removed": 1}
    template = MessageTemplate.objects.get(account=account)
    assert template.template_id == item["template_id"]
    assert template.title == "领取奖金提醒"
    assert template.deputy_industry == "互联网|电子商务"
    # The sample prints {{x.DATA}} as { {x.DATA} }; the retired remark is not a keyword.
    assert template.keywords == ["result", "withdrawMoney", "withdrawTime", "cardInfo", "arrivedTime"]
    assert template.sync_status == "synced"


def test_pull_is_an_upsert(account, sandbox_app):
    seed_template(sandbox_app)
    services.message_templates_pull(account=account)
    SandboxTemplate.objects.filter(app=sandbox_app).update(title="新标题")
    services.message_templates_pull(account=account)
    assert list(MessageTemplate.objects.values_list("title", flat=True)) == ["新标题"]


def test_add_from_the_library_uses_the_sample_request(account, sandbox_app):
    request = sample_json("api/template_api_add_template_request.json")

    template = services.message_template_add(account=account, template_id_short=request["template_id_short"])

    assert template.template_id_short == "TM00015"
    assert template.keywords == ["keyword1", "keyword2", "keyword3"]
    assert SandboxTemplate.objects.filter(app=sandbox_app, template_id=template.template_id).exists()


def test_add_with_a_keyword_name_list_keeps_those_keywords(account, sandbox_app):
    template = services.message_template_add(
        account=account, template_id_short="OPENTM200605630", keyword_names=["任务名称", "处理结果"]
    )
    assert template.keywords == ["thing1", "phrase3"]


def test_add_beyond_25_templates_is_45026_and_changes_nothing(account, sandbox_app):
    for n in range(25):
        SandboxTemplate.objects.create(app=sandbox_app, template_id=f"t{n}", title="x", content="{{keyword1.DATA}}")
    with pytest.raises(WeChatError) as caught:
        services.message_template_add(account=account, template_id_short="TM00015")
    assert caught.value.errcode == 45026
    assert SandboxTemplate.objects.filter(app=sandbox_app).count() == 25
    assert not MessageTemplate.objects.exists()


def test_add_an_unknown_library_number_is_40037(account, sandbox_app):
    with pytest.raises(WeChatError) as caught:
        services.message_template_add(account=account, template_id_short="TM99999")
    assert caught.value.errcode == 40037
    assert "模板" in caught.value.meaning_zh and "template" in caught.value.meaning_en


def test_delete_removes_the_template_at_wechat_and_here(account, sandbox_app):
    template = seed_template(sandbox_app, account)
    services.message_template_delete(template=template)
    assert not SandboxTemplate.objects.exists()
    assert not MessageTemplate.objects.exists()


def test_delete_of_a_template_already_gone_at_wechat_is_40037_and_keeps_the_row(account, sandbox_app):
    template = MessageTemplateFactory(account=account, template_id="not-at-wechat", title="x")
    with pytest.raises(WeChatError) as caught:
        services.message_template_delete(template=template)
    assert caught.value.errcode == 40037
    assert MessageTemplate.objects.filter(pk=template.pk).exists()


def test_industry_get_has_the_sample_shape_and_set_is_limited_to_once_a_month(account, sandbox_app):
    shape = sample_json("api/template_get_industry_response.json")
    services.industry_set(account=account, industry_id1=41, industry_id2=1)
    answer = services.industry_get(account=account)
    assert set(answer) >= set(shape)
    assert answer["primary_industry"] == shape["primary_industry"]
    with pytest.raises(WeChatError) as caught:
        services.industry_set(account=account, industry_id1=1, industry_id2=2)
    assert caught.value.errcode == 43100


# Data validation ----------------------------------------------------------------------------------------------

KEYWORDS = keywords_from_content("{{thing1.DATA}} {{amount2.DATA}} {{time3.DATA}}")


def test_keywords_are_parsed_in_order_without_first_and_remark():
    assert keywords_from_content("{{first.DATA}}\n名称：{{keyword1.DATA}}\n{{ keyword2.DATA }}{{remark.DATA}}") == [
        "keyword1",
        "keyword2",
    ]


def test_valid_data_is_normalised_and_colour_dropped():
    data = {"thing1": {"value": "巧克力", "color": "#173177"}, "amount2": "39.8元", "time3": {"value": "今天"}}
    assert data_validate(keywords=KEYWORDS, data=data) == {
        "thing1": {"value": "巧克力"},
        "amount2": {"value": "39.8元"},
        "time3": {"value": "今天"},
    }


@pytest.mark.parametrize(
    ("data", "key", "fragment"),
    [
        ({"thing1": "a", "amount2": "b"}, "time3", "Missing"),
        ({"thing1": "a", "amount2": "b", "time3": "c", "thing9": "d"}, "thing9", "no keyword"),
        ({"thing1": "一" * 21, "amount2": "b", "time3": "c"}, "thing1", "At most 20"),
        ({"thing1": "a\nb", "amount2": "b", "time3": "c"}, "thing1", "Line breaks"),
        ({"thing1": "a", "amount2": "b", "time3": "c", "first": "hi"}, "first", "2023-05-04"),
        ({"thing1": "a", "amount2": "b", "time3": "c", "remark": "bye"}, "remark", "2023-05-04"),
        ({"thing1": "", "amount2": "b", "time3": "c"}, "thing1", "required"),
        ({"thing1": 3, "amount2": "b", "time3": "c"}, "thing1", "text"),
    ],
)
def test_bad_data_names_the_keyword(data, key, fragment):
    with pytest.raises(ValidationError) as caught:
        data_validate(keywords=KEYWORDS, data=data)
    assert fragment in " ".join(caught.value.message_dict[key])


def test_the_legacy_sample_request_is_refused_for_its_first_and_remark(account, sandbox_app):
    request = sample_json("api/message_template_send_request.json")
    template = seed_template(
        sandbox_app, account, template_id=request["template_id"], content="{{keyword1.DATA}}{{keyword2.DATA}}{{keyword3.DATA}}"
    )
    with pytest.raises(ValidationError) as caught:
        services.template_message_create(account=account, openid="o1", template=template, data=request["data"])
    assert any(m.startswith("first:") for m in caught.value.message_dict["data"])
    assert any(m.startswith("remark:") for m in caught.value.message_dict["data"])
    assert not TemplateMessage.objects.exists()


# Sending one --------------------------------------------------------------------------------------------------


@pytest.fixture
def order_template(account, sandbox_app):
    return seed_template(sandbox_app, account)


@pytest.fixture
def follower(account, sandbox_app):
    return add_followers(account, sandbox_app, 1)[0]


def send(account, template, openid, capture, **extra):
    with capture(execute=True):
        message, _created = services.template_message_create(
            account=account, openid=openid, template=template, data=ORDER_DATA, **extra
        )
    message.refresh_from_db()
    return message


def test_send_one_reaches_the_phone_and_job_finish_marks_it_delivered(
    account, sandbox_app, order_template, follower, django_capture_on_commit_callbacks
):
    message = send(
        account,
        order_template,
        follower,
        django_capture_on_commit_callbacks,
        url="https://example.com/order/1",
        miniprogram_appid="wxminiprogram0001",
        miniprogram_pagepath="index?foo=bar",
    )

    assert message.status == Status.SUCCESS
    assert message.msgid and message.sent_at and message.finished_at
    delivery = SandboxDelivery.objects.get(app=sandbox_app, channel="template")
    assert delivery.openid == follower
    assert delivery.msg_id == message.msgid
    assert delivery.payload["data"] == ORDER_DATA
    assert delivery.payload["url"] == "https://example.com/order/1"
    assert delivery.payload["miniprogram"] == {"appid": "wxminiprogram0001", "pagepath": "index?foo=bar"}
    event = InboundMessage.objects.get(account=account, event="TEMPLATESENDJOBFINISH")
    assert event.msg_id == message.msgid


def test_a_timeout_after_wechat_accepted_is_resent_with_the_same_client_msg_id_and_delivered_once(
    account, sandbox_app, order_template, follower
):
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.TEMPLATE_SEND.path, kind="timeout_after", remaining=1)
    message, _ = services.template_message_create(account=account, openid=follower, template=order_template, data=ORDER_DATA)

    with pytest.raises(WeChatTimeout):
        services.template_message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == Status.QUEUED  # unknown outcome: resend, never a new client_msg_id
    assert SandboxDelivery.objects.filter(channel="template").count() == 1

    tasks.template_message_send.delay(message.pk)  # the retried task
    tasks.template_message_send.delay(message.pk)  # and a duplicate of it
    message.refresh_from_db()

    first_send = SandboxTemplateSend.objects.get(app=sandbox_app)
    assert message.status in (Status.SENT, Status.SUCCESS)
    assert message.msgid == str(first_send.msgid)
    assert message.attempts == 2
    assert SandboxDelivery.objects.filter(channel="template", openid=follower).count() == 1


def test_the_task_asks_for_a_retry_on_timeout_and_the_rerun_does_not_deliver_twice(
    account, sandbox_app, order_template, follower
):
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.TEMPLATE_SEND.path, kind="timeout_after", remaining=1)
    message, _ = services.template_message_create(account=account, openid=follower, template=order_template, data=ORDER_DATA)
    with pytest.raises(Retry):
        tasks.template_message_send.delay(message.pk)
    tasks.template_message_send.delay(message.pk)
    message.refresh_from_db()
    assert message.status in (Status.SENT, Status.SUCCESS)
    assert SandboxDelivery.objects.filter(channel="template").count() == 1


def test_busy_minus_one_is_retried(account, sandbox_app, order_template, follower):
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.TEMPLATE_SEND.path, kind="errcode", value=-1, remaining=1)
    message, _ = services.template_message_create(account=account, openid=follower, template=order_template, data=ORDER_DATA)
    with pytest.raises(Retry):
        tasks.template_message_send.delay(message.pk)
    message.refresh_from_db()
    assert (message.status, message.errcode) == (Status.QUEUED, -1)
    tasks.template_message_send.delay(message.pk)
    message.refresh_from_db()
    assert message.status in (Status.SENT, Status.SUCCESS)
    assert SandboxDelivery.objects.filter(channel="template").count() == 1


def test_minute_limit_45011_leaves_the_message_queued_for_later(account, sandbox_app, order_template):
    first, second = add_followers(account, sandbox_app, 2)
    SandboxTemplateSettings.objects.create(app=sandbox_app, minute_limit=1)
    one, _ = services.template_message_create(account=account, openid=first, template=order_template, data=ORDER_DATA)
    two, _ = services.template_message_create(account=account, openid=second, template=order_template, data=ORDER_DATA)
    services.template_message_send(message_id=one.pk)
    with pytest.raises(WeChatError) as caught:
        services.template_message_send(message_id=two.pk)
    assert caught.value.errcode == 45011
    two.refresh_from_db()
    assert (two.status, two.errcode) == (Status.QUEUED, 45011)
    assert SandboxDelivery.objects.filter(channel="template").count() == 1


@pytest.mark.parametrize(
    ("setup", "errcode"),
    [
        ("unsubscribed", 43004),
        ("unknown_openid", 40003),
        ("refused", 43101),
        ("template_gone", 40037),
    ],
)
def test_permanent_errors_fail_the_message_with_errcode_and_meaning(
    account, sandbox_app, order_template, follower, setup, errcode
):
    openid = follower
    if setup == "unsubscribed":
        SandboxFollower.objects.filter(app=sandbox_app, openid=follower).update(subscribed=False)
    elif setup == "unknown_openid":
        openid = "oNotAFollowerOfThisAccount00"
    elif setup == "refused":
        SandboxTemplateReceiver.objects.create(app=sandbox_app, openid=follower, behaviour="refuse")
    elif setup == "template_gone":
        SandboxTemplate.objects.all().delete()
    message, _ = services.template_message_create(account=account, openid=openid, template=order_template, data=ORDER_DATA)
    tasks.template_message_send.delay(message.pk)
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert message.errcode == errcode
    assert message.error.startswith(f"{errcode}: ") and " / " in message.error
    assert not SandboxDelivery.objects.filter(channel="template").exists()


def test_an_unverified_subscription_account_gets_48001(make_account, django_capture_on_commit_callbacks):
    from sandbox.models import SandboxApp

    account = make_account(appid="wx00000000000000a1", account_type="subscription", verified=False)
    app = SandboxApp.objects.get(appid=account.appid)
    template = seed_template(app, account)
    openid = add_followers(account, app, 1)[0]
    message = send(account, template, openid, django_capture_on_commit_callbacks)
    assert (message.status, message.errcode) == (Status.FAILED, 48001)


# TEMPLATESENDJOBFINISH ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status_text", "expected"),
    [
        ("success", Status.SUCCESS),
        ("failed:user block", Status.FAILED_USER_BLOCK),
        ("failed: system failed", Status.FAILED_SYSTEM),
    ],
)
def test_job_finish_sample_updates_the_message_by_msgid(
    client, account, order_template, django_capture_on_commit_callbacks, status_text, expected
):
    message = TemplateMessageFactory(
        account=account,
        openid="oia2TjuEGTNoeX76QEjQNrcURxG8",
        template=order_template,
        wechat_template_id=order_template.template_id,
        client_msg_id="c1",
        status=Status.SENT,
        msgid="200163836",
    )
    xml = sample_text("inbound/event_templatesendjobfinish_success.xml").replace(
        "<![CDATA[success]]>", f"<![CDATA[{status_text}]]>"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = post_callback(client, account, xml)
    assert response.status_code == 200
    message.refresh_from_db()
    assert message.status == expected
    assert message.finished_at is not None
    if expected != Status.SUCCESS:
        assert message.error == status_text


def test_job_finish_for_another_account_or_unknown_msgid_changes_nothing(
    client, account, order_template, django_capture_on_commit_callbacks
):
    message = TemplateMessageFactory(
        account=account,
        openid="o1",
        template=order_template,
        wechat_template_id=ORDER_TEMPLATE_ID,
        client_msg_id="c1",
        status=Status.SENT,
        msgid="999",
    )
    with django_capture_on_commit_callbacks(execute=True):
        post_callback(client, account, sample_text("inbound/event_templatesendjobfinish_success.xml"))
    message.refresh_from_db()
    assert message.status == Status.SENT


@pytest.mark.parametrize(("behaviour", "expected"), [("block", Status.FAILED_USER_BLOCK), ("system_fail", Status.FAILED_SYSTEM)])
def test_sandbox_reports_blocked_and_failed_receivers(
    account, sandbox_app, order_template, follower, django_capture_on_commit_callbacks, behaviour, expected
):
    SandboxTemplateReceiver.objects.create(app=sandbox_app, openid=follower, behaviour=behaviour)
    message = send(account, order_template, follower, django_capture_on_commit_callbacks)
    assert message.status == expected
    assert not SandboxDelivery.objects.filter(channel="template").exists()


def test_client_msg_id_is_idempotent_locally(account, sandbox_app, order_template, follower):
    one, created_one = services.template_message_create(
        account=account, openid=follower, template=order_template, data=ORDER_DATA, client_msg_id="order-1-paid"
    )
    two, created_two = services.template_message_create(
        account=account, openid=follower, template=order_template, data=ORDER_DATA, client_msg_id="order-1-paid"
    )
    assert (created_one, created_two) == (True, False)
    assert one.pk == two.pk
    with pytest.raises(ValidationError):
        services.template_message_create(
            account=account, openid=follower, template=order_template, data=ORDER_DATA, client_msg_id="x" * 33
        )


def test_sandbox_seeder_adds_and_pulls_demo_templates_idempotently(account, sandbox_app):
    from sandbox.seeders.templatemsg import sandbox_templates_seed
    from sandbox.seeding import SEEDERS

    assert sandbox_templates_seed in SEEDERS
    sandbox_templates_seed(account=account, app=sandbox_app)
    sandbox_templates_seed(account=account, app=sandbox_app)
    assert MessageTemplate.objects.filter(account=account).count() == 2
    assert SandboxTemplate.objects.filter(app=sandbox_app).count() == 2


def test_after_the_last_retry_a_still_busy_message_is_failed(account, sandbox_app, order_template, follower):
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.TEMPLATE_SEND.path, kind="errcode", value=-1)
    message, _ = services.template_message_create(account=account, openid=follower, template=order_template, data=ORDER_DATA)
    last_try = tasks.template_message_send.apply(args=(message.pk,), retries=tasks.template_message_send.max_retries)
    assert last_try.result == Status.FAILED
    message.refresh_from_db()
    assert (message.status, message.errcode) == (Status.FAILED, -1)
    assert message.error.startswith("-1: ")

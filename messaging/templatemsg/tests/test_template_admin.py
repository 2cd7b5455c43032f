"""Admin pages for templates, template messages and pushes: actions, WeChat errors as errcode + meaning."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User

from conftest import SCREENSHOTS, browser_test
from messaging.templatemsg.models import MessageTemplate, TemplateMessage, TemplatePush
from messaging.templatemsg.tests.factories import MessageTemplateFactory, TemplateMessageFactory, TemplatePushFactory
from sandbox.models import SandboxApp, SandboxDelivery, SandboxTemplate
from sandbox.tests.factories import SandboxFaultFactory
from wechat.api.endpoints import Endpoint

from .template_support import (  # noqa: F401
    ORDER_DATA,
    _template_settings,
    add_followers,
    data_fields,
    make_tag,
    seed_template,
)

TEMPLATES_URL = "/en/admin/templatemsg/messagetemplate/"
PUSHES_URL = "/en/admin/templatemsg/templatepush/"


@pytest.fixture
def boss(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(user)
    return user


def page_text(response) -> str:
    return response.content.decode()


def test_changelists_render(client, boss, account, sandbox_app):
    template = seed_template(sandbox_app, account)
    scheduled = TemplatePushFactory(account=account, name="p", template=template, scheduled_at="2030-01-01T00:00Z")
    sent = TemplatePushFactory(account=account, name="q", template=template, scheduled_at="2020-01-01T00:00Z", status="sent")
    message = TemplateMessageFactory(
        account=account, template=None, openid="o", wechat_template_id="t", client_msg_id="c", push=sent
    )
    for url in (
        TEMPLATES_URL,
        f"{TEMPLATES_URL}add/",
        f"{TEMPLATES_URL}{template.pk}/change/",
        PUSHES_URL,
        f"{PUSHES_URL}add/",
        f"{PUSHES_URL}{scheduled.pk}/change/",
        f"{PUSHES_URL}{sent.pk}/change/",
        "/en/admin/templatemsg/templatemessage/",
        "/en/admin/templatemsg/templatemessage/add/",
        f"/en/admin/templatemsg/templatemessage/{message.pk}/change/",
        "/admin/templatemsg/templatepush/",
    ):
        assert client.get(url).status_code == 200, url


def test_pull_button_pulls_and_reports(client, boss, account, sandbox_app):
    seed_template(sandbox_app)
    response = client.post(f"{TEMPLATES_URL}pull/", {"account": account.pk}, follow=True)
    assert "1 templates pulled from WeChat" in page_text(response)
    assert MessageTemplate.objects.filter(account=account).count() == 1


def test_pull_failure_shows_errcode_and_meaning_not_a_traceback(client, boss, account, sandbox_app):
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.TEMPLATE_LIST.path, kind="errcode", value=45009)
    response = client.post(f"{TEMPLATES_URL}pull/", {"account": account.pk}, follow=True)
    text = page_text(response)
    assert response.status_code == 200
    assert "45009" in text and "接口调用超过每日限额" in text and "Daily API quota reached" in text
    assert "Traceback" not in text


def test_add_from_library_in_the_admin(client, boss, account, sandbox_app):
    response = client.post(
        f"{TEMPLATES_URL}add/", {"account": account.pk, "template_id_short": "TM00015", "keyword_names": ""}, follow=True
    )
    assert response.status_code == 200
    template = MessageTemplate.objects.get(account=account)
    assert template.keywords == ["keyword1", "keyword2", "keyword3"]


def test_add_error_is_shown_on_the_form_with_errcode_and_meaning(client, boss, account, sandbox_app):
    response = client.post(f"{TEMPLATES_URL}add/", {"account": account.pk, "template_id_short": "TM99999"})
    text = page_text(response)
    assert response.status_code == 200
    assert "40037" in text and "不合法的模板 id" in text and "Invalid template_id" in text
    assert not MessageTemplate.objects.exists()


def test_delete_action_deletes_at_wechat(client, boss, account, sandbox_app):
    template = seed_template(sandbox_app, account)
    response = client.post(TEMPLATES_URL, {"action": "delete_at_wechat", "_selected_action": [template.pk]}, follow=True)
    assert "deleted at WeChat" in page_text(response)
    assert not SandboxTemplate.objects.exists() and not MessageTemplate.objects.exists()


def test_push_created_in_the_admin_is_sent_after_confirmation(
    client, boss, account, sandbox_app, django_capture_on_commit_callbacks
):
    template = seed_template(sandbox_app, account)
    tag = make_tag(account)
    add_followers(account, sandbox_app, 7, tag=tag)
    form = {
        "name": "会员通知",
        "account": account.pk,
        "template": template.pk,
        **data_fields(ORDER_DATA),
        "audience": "tag",
        "tag": tag.pk,
        "rate_limit": 100,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{PUSHES_URL}add/", form)
    push = TemplatePush.objects.get()
    assert response["Location"] == f"{PUSHES_URL}{push.pk}/preview/"
    assert push.status == TemplatePush.Status.DRAFT and push.created_by == boss
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{PUSHES_URL}{push.pk}/send/", {"confirm": "yes", "when": "now"})
    push.refresh_from_db()
    assert push.status == TemplatePush.Status.SENT
    assert SandboxDelivery.objects.filter(channel="template").count() == 7
    assert "100%" in page_text(client.get(PUSHES_URL))


def test_push_with_bad_data_shows_keyword_errors_and_stores_nothing(client, boss, account, sandbox_app):
    template = seed_template(sandbox_app, account)
    form = {
        "name": "x",
        "account": account.pk,
        "template": template.pk,
        **data_fields({"thing1": "一" * 21, "remark": "r"}),
        "audience": "all",
        "rate_limit": 100,
    }
    text = page_text(client.post(f"{PUSHES_URL}add/", form))
    assert "thing1: At most 20 characters" in text
    assert "remark: WeChat no longer shows" in text
    assert "amount2: Missing" in text
    assert not TemplatePush.objects.exists()


def test_cancel_action(client, boss, account, sandbox_app):
    template = seed_template(sandbox_app, account)
    push = TemplatePushFactory(account=account, name="p", template=template, scheduled_at="2030-01-01T00:00Z")
    response = client.post(PUSHES_URL, {"action": "cancel", "_selected_action": [push.pk]}, follow=True)
    assert "cancelled" in page_text(response)
    push.refresh_from_db()
    assert push.status == TemplatePush.Status.CANCELLED


def test_single_message_form_sends(client, boss, account, sandbox_app, django_capture_on_commit_callbacks):
    template = seed_template(sandbox_app, account)
    openid = add_followers(account, sandbox_app, 1)[0]
    form = {"account": account.pk, "template": template.pk, "openid": openid, **data_fields(ORDER_DATA)}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/en/admin/templatemsg/templatemessage/add/", form, follow=True)
    assert response.status_code == 200
    assert TemplateMessage.objects.get().status == TemplateMessage.Status.SUCCESS


def test_operators_see_only_their_accounts(client, account, make_account, sandbox_app):
    other = make_account(appid="wx00000000000000c4")
    seed_template(sandbox_app, account, title="mine")
    MessageTemplateFactory(account=other, template_id="x", title="theirs")
    user = User.objects.create_user("op", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_messagetemplate"))
    account.operators.add(user)
    client.force_login(user)
    text = page_text(client.get(TEMPLATES_URL))
    assert "mine" in text and "theirs" not in text


@browser_test[0]
@browser_test[1]
def test_template_pages_in_chromium(live_server, transactional_db, make_account, django_user_model, browser_page):
    from messaging.templatemsg import services
    from sandbox.models import SandboxApp

    account = make_account()
    app = SandboxApp.objects.get(appid=account.appid)
    seed_template(app)
    services.message_templates_pull(account=account)
    template = MessageTemplate.objects.get()
    tag = make_tag(account)
    add_followers(account, app, 40, tag=tag)
    push = services.template_push_create(
        account=account, name="双十一会员通知", template=template, data=ORDER_DATA, audience="tag", tag=tag
    )
    push.refresh_from_db()
    last_ten = list(TemplateMessage.objects.filter(push=push).order_by("-pk").values_list("pk", flat=True)[:10])
    TemplateMessage.objects.filter(pk__in=last_ten).update(status="queued")  # as if mid-push
    TemplatePush.objects.filter(pk=push.pk).update(status="sending")
    django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-for-test-1")
    SandboxFaultFactory(app=app, api=Endpoint.TEMPLATE_LIST.path, kind="errcode", value=45009)

    page = browser_page
    page.goto(f"{live_server.url}/en/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-for-test-1")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}{TEMPLATES_URL}")
    page.click("text=Pull from WeChat")
    page.wait_for_selector(".messagelist .error")
    error = page.inner_text(".messagelist .error")
    assert "45009" in error and "Daily API quota reached" in error
    page.screenshot(path=str(SCREENSHOTS / "template_list_en.png"), full_page=True)
    page.goto(f"{live_server.url}{PUSHES_URL}")
    assert "75%" in page.inner_text("#result_list")
    page.screenshot(path=str(SCREENSHOTS / "template_push_list_en.png"), full_page=True)
    page.goto(f"{live_server.url}{PUSHES_URL}add/")
    page.screenshot(path=str(SCREENSHOTS / "template_push_add_en.png"), full_page=True)


O1, O2 = (f"{'oTpl' + '_' * 18}{n:06d}" for n in range(2))  # the followers add_followers makes


def _scheduled_push(*, account, template) -> TemplatePush:
    add_followers(account, SandboxApp.objects.get(appid=account.appid), 2)
    return TemplatePushFactory(
        account=account,
        name="p",
        template=template,
        data=ORDER_DATA,
        audience="openids",
        openids=[O1],
        scheduled_at="2030-01-01T00:00Z",
    )


def _edit_form(push, *, name, data, followers) -> dict:
    """The change form of a scheduled push as an operator posts it: keyword fields and picked followers."""
    return {
        "name": name,
        "account": push.account_id,
        "template": push.template_id,
        **data_fields(data),
        "audience": "openids",
        "followers": followers,
        "rate_limit": 50,
    }


def test_a_scheduled_push_can_be_edited_in_the_admin(client, boss, account, sandbox_app):
    push = _scheduled_push(account=account, template=seed_template(sandbox_app, account))
    form = _edit_form(push, name="改名", data={**ORDER_DATA, "thing1": {"value": "牛奶"}}, followers=[O1, O2])
    response = client.post(f"{PUSHES_URL}{push.pk}/change/", form, follow=True)
    assert response.status_code == 200
    push.refresh_from_db()
    assert (push.name, push.openids, push.rate_limit) == ("改名", [O1, O2], 50)
    assert push.data["thing1"] == {"value": "牛奶"}
    assert push.status == TemplatePush.Status.SCHEDULED


def test_an_invalid_edit_of_a_scheduled_push_is_refused_and_changes_nothing(client, boss, account, sandbox_app):
    push = _scheduled_push(account=account, template=seed_template(sandbox_app, account))
    form = _edit_form(push, name="改名", data={**ORDER_DATA, "thing1": {"value": "一" * 21}}, followers=[O1, O2])
    text = page_text(client.post(f"{PUSHES_URL}{push.pk}/change/", form))
    assert "thing1: At most 20 characters" in text
    push.refresh_from_db()
    assert (push.name, push.openids, push.data) == ("p", [O1], ORDER_DATA)


def test_an_edit_is_normalised_as_a_new_push_is(client, boss, account, sandbox_app):
    push = _scheduled_push(account=account, template=seed_template(sandbox_app, account))
    form = _edit_form(push, name="p", data=ORDER_DATA, followers=[O1, O2, O1])
    client.post(f"{PUSHES_URL}{push.pk}/change/", form, follow=True)
    push.refresh_from_db()
    assert push.openids == [O1, O2]

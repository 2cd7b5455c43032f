"""Template pushes go through the mass sends' flow: 保存 stores a draft, then preview → confirm with audience size → schedule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from messaging.templatemsg import services
from messaging.templatemsg.models import TemplatePush
from sandbox.models import SandboxDelivery

from .template_support import ORDER_DATA, _template_settings, add_followers, data_fields, make_tag, seed_template  # noqa: F401

PUSHES_URL = "/en/admin/templatemsg/templatepush/"


@pytest.fixture
def boss(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(user)
    return user


@pytest.fixture
def draft(account, sandbox_app):
    template = seed_template(sandbox_app, account)
    tag = make_tag(account)
    add_followers(account, sandbox_app, 5, tag=tag)
    add_followers(account, sandbox_app, 2, prefix="oOther")
    return services.template_push_create(
        account=account, name="会员通知", template=template, data=ORDER_DATA, audience="tag", tag=tag, draft=True
    )


def add_form(template, tag, **extra) -> dict:
    return {
        "name": "会员通知",
        "account": template.account_id,
        "template": template.pk,
        **data_fields(ORDER_DATA),
        "audience": "tag",
        "tag": tag.pk,
        "rate_limit": 100,
        # What the old form posted: a time in the past, which used to send at once.
        "scheduled_at_0": "2020-01-01",
        "scheduled_at_1": "00:00:00",
        **extra,
    }


def test_saving_a_new_push_sends_nothing(client, boss, account, sandbox_app, django_capture_on_commit_callbacks):
    template = seed_template(sandbox_app, account)
    tag = make_tag(account)
    add_followers(account, sandbox_app, 3, tag=tag)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{PUSHES_URL}add/", add_form(template, tag))
    assert TemplatePush.objects.get().status == TemplatePush.Status.DRAFT
    assert not SandboxDelivery.objects.filter(channel="template").exists()
    assert services.template_pushes_dispatch_due() == 0


def test_preview_reaches_the_operator_only_and_is_not_part_of_the_push(client, boss, draft, sandbox_app):
    operator = add_followers(draft.account, sandbox_app, 1, prefix="oOperator")[0]
    response = client.post(f"{PUSHES_URL}{draft.pk}/preview/", {"openids": operator}, follow=True)
    page = response.content.decode()
    assert f"Preview sent to {operator}" in page
    assert "商品名称" in page and "巧克力" in page  # the message shown beside the picker
    assert list(SandboxDelivery.objects.filter(channel="template").values_list("openid", flat=True)) == [operator]
    draft.refresh_from_db()
    assert draft.status == TemplatePush.Status.DRAFT and not draft.messages.exists()


def test_preview_error_is_shown_with_errcode_and_meaning(client, boss, draft):
    response = client.post(f"{PUSHES_URL}{draft.pk}/preview/", {"openids": "oNotAFollower0000000000001"}, follow=True)
    text = response.content.decode()
    assert "40003" in text and "Traceback" not in text


def test_the_confirmation_shows_the_audience_size_and_the_message(client, boss, draft):
    text = client.get(f"{PUSHES_URL}{draft.pk}/send/").content.decode()
    assert 'id="push-audience-size">5<' in text
    assert "巧克力" in text and "39.8元" in text and "商品名称" in text


def test_confirming_now_sends_to_the_audience(client, boss, draft, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{PUSHES_URL}{draft.pk}/send/", {"confirm": "yes", "when": "now"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == TemplatePush.Status.SENT
    assert SandboxDelivery.objects.filter(channel="template").count() == 5


def test_confirming_a_later_time_schedules_it(client, boss, draft, django_capture_on_commit_callbacks):
    at = timezone.localtime(timezone.now() + timedelta(hours=2)).replace(second=0, microsecond=0)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"{PUSHES_URL}{draft.pk}/send/", {"confirm": "yes", "when": "later", "scheduled_at": at.strftime("%Y-%m-%dT%H:%M")}
        )
    draft.refresh_from_db()
    assert (draft.status, draft.scheduled_at) == (TemplatePush.Status.SCHEDULED, at)
    assert not SandboxDelivery.objects.filter(channel="template").exists()


def test_a_past_time_is_refused_on_the_confirmation_page(client, boss, draft, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{PUSHES_URL}{draft.pk}/send/", {"confirm": "yes", "when": "later", "scheduled_at": "2001-01-01T09:00"}
        )
    assert "in the past" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == TemplatePush.Status.DRAFT
    assert not SandboxDelivery.objects.filter(channel="template").exists()


def test_the_service_refuses_a_past_time_too(draft):
    with pytest.raises(ValidationError, match="in the past"):
        services.template_push_schedule(push=draft, at=timezone.now() - timedelta(hours=1))
    draft.refresh_from_db()
    assert draft.status == TemplatePush.Status.DRAFT


def test_a_started_push_cannot_be_confirmed_again(client, boss, draft):
    TemplatePush.objects.filter(pk=draft.pk).update(status=TemplatePush.Status.SENT)
    response = client.post(f"{PUSHES_URL}{draft.pk}/send/", {"confirm": "yes", "when": "now"})
    assert response.status_code == 302
    assert not SandboxDelivery.objects.filter(channel="template").exists()


def test_another_accounts_push_is_not_found(client, draft, make_account, django_user_model):
    from django.contrib.auth.models import Permission

    other = make_account(appid="wx00000000000000c4")
    user = django_user_model.objects.create_user("op", password="x", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__endswith="templatepush"))
    other.operators.add(user)
    client.force_login(user)
    assert client.get(f"{PUSHES_URL}{draft.pk}/send/").status_code == 404
    assert client.post(f"{PUSHES_URL}{draft.pk}/preview/", {"openids": "oX000000000000001"}).status_code == 404


def test_the_flow_speaks_chinese(client, boss, draft):
    change = client.get(f"/admin/templatemsg/templatepush/{draft.pk}/change/").content.decode()
    assert "发送或定时…" in change and "草稿：预览并通过" in change and "粉丝看到的样子" in change
    confirm = client.get(f"/admin/templatemsg/templatepush/{draft.pk}/send/").content.decode()
    assert "确认发送" in confirm and "每位粉丝收到的内容" in confirm

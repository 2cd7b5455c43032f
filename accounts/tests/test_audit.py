"""The audit trail: operators' changes and WeChat calls that change state, with who, when, what and the result."""

from __future__ import annotations

from datetime import timedelta

import pytest
from auditlog.registry import auditlog
from django.apps import apps
from django.contrib.auth.models import Permission, User
from django.db import models
from django.test.utils import isolate_apps
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import audit
from accounts.models import AuditEntry, OfficialAccount
from accounts.tasks import audit_entries_prune as audit_entries_prune_task
from accounts.tests.factories import TokenFactory
from followers.tests.factories import TagFactory
from messaging.mass.models import MassMessage
from sandbox.tests.factories import SandboxFaultFactory
from wechat.api import tags as wechat_tags
from wechat.api.endpoints import Endpoint
from wechat.errors import WeChatError
from wxsite.celery import app as celery_app

ACTION = AuditEntry.Action


def _operator(account, *perms: str, username="op") -> User:
    user = User.objects.create_user(username, password="pw-for-test-1", is_staff=True)
    user.user_permissions.add(*(Permission.objects.get(codename=codename) for codename in perms))
    account.operators.add(user)
    return user


def _own_models():
    return [m for m in apps.get_models() if audit._own_app(m._meta.app_config)]


def test_every_model_of_the_projects_apps_is_audited_or_excluded_with_a_reason():
    for model in _own_models():
        label = model._meta.label_lower
        assert auditlog.contains(model) or label in audit.EXCLUDED_MODELS, f"{label} is neither audited nor excluded"
    known = {m._meta.label_lower for m in apps.get_models()}
    assert set(audit.EXCLUDED_MODELS) <= known, "EXCLUDED_MODELS names a model that no longer exists"
    assert auditlog.contains(User) and auditlog.contains(OfficialAccount) and auditlog.contains(MassMessage)


@isolate_apps("menus")
def test_a_model_an_app_adds_later_is_audited_without_being_listed():
    class Banner(models.Model):
        account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
        title = models.CharField(max_length=20)
        updated_at = models.DateTimeField(auto_now=True)

        class Meta:
            app_label = "menus"

        def __str__(self):
            return self.title

    assert Banner in audit.audited_models(candidates=[Banner])
    exclude, secret = audit._fields(Banner)
    assert exclude == ["updated_at"] and secret == []


def test_an_operators_admin_edit_is_recorded_with_who_what_and_the_account(client, account):
    tag = TagFactory(account=account, name="VIP", wechat_id=100, sync_status="synced")
    user = _operator(account, "change_tag", "view_tag")
    client.force_login(user)
    response = client.post(f"/en/admin/followers/tag/{tag.pk}/change/", {"name": "贵宾"})
    assert response.status_code == 302, response.content
    entry = AuditEntry.objects.filter(action=ACTION.UPDATE, object_id=tag.pk).latest()
    assert entry.actor == user and entry.account == account and entry.remote_addr == "127.0.0.1"
    assert entry.changes["name"] == ["VIP", "贵宾"]


def test_an_accounts_secret_is_recorded_as_changed_never_with_its_value(client, account, django_user_model):
    boss = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-for-test-1")
    client.force_login(boss)
    account.app_secret = "the-new-secret-123456"
    account.save()
    entry = AuditEntry.objects.filter(action=ACTION.UPDATE, content_type__model="officialaccount").latest()
    assert entry.changes["app_secret"] == [audit.MASK, audit.MASK]
    stored = "".join(str(row) for row in AuditEntry.objects.values_list("changes", "object_repr", "additional_data"))
    assert "the-new-secret-123456" not in stored and "sandbox-secret-1" not in stored


def test_a_grant_to_an_account_is_recorded(account, django_user_model):
    user = django_user_model.objects.create_user("newop")
    with audit.acting_as(django_user_model.objects.create_superuser("boss", "b@example.com", "pw")):
        account.operators.add(user)
    entry = AuditEntry.objects.filter(content_type__model="officialaccount", object_id=account.pk).latest()
    assert entry.changes["operators"] == {"type": "m2m", "operation": "add", "objects": ["newop"]}
    assert entry.actor.username == "boss" and entry.account == account


def test_a_wechat_call_that_changes_state_is_recorded_with_the_actor_and_the_result(account, django_user_model):
    user = django_user_model.objects.create_user("caller")
    with audit.acting_as(user):
        tag_id = wechat_tags.tag_create(account=account, name="广东")
        wechat_tags.tags_list(account=account)  # a read: not in the trail
    entry = AuditEntry.objects.get(action=ACTION.WECHAT_CALL)
    assert (entry.endpoint, entry.errcode, entry.actor, entry.account) == (Endpoint.TAGS_CREATE.path, 0, user, account)
    assert entry.additional_data["method"] == "POST"
    assert tag_id


def test_a_refused_wechat_call_is_recorded_with_errcode_and_meaning(account, sandbox_app):
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.TAGS_DELETE.path, kind="errcode", value=45058)
    with pytest.raises(WeChatError):
        wechat_tags.tag_delete(account=account, tag_id=100)
    entry = AuditEntry.objects.get(action=ACTION.WECHAT_CALL, endpoint=Endpoint.TAGS_DELETE.path)
    assert entry.errcode == 45058 and entry.actor is None
    assert entry.additional_data["meaning_zh"] and entry.additional_data["meaning_en"]


def test_a_get_that_deletes_is_recorded_and_credential_calls_are_not():
    assert Endpoint.KF_DELETE.spec.reads is False and audit_changes(Endpoint.KF_DELETE)
    assert audit_changes(Endpoint.MENU_DELETE) and audit_changes(Endpoint.MASS_SEND)
    assert not audit_changes(Endpoint.STABLE_TOKEN) and not audit_changes(Endpoint.OAUTH_ACCESS_TOKEN)
    assert not audit_changes(Endpoint.USER_INFO_BATCHGET) and not audit_changes(Endpoint.MENU_GET)


def audit_changes(endpoint) -> bool:
    from wechat.api.endpoints import changes_state

    return changes_state(endpoint.path, endpoint.method)


def test_a_rest_call_by_token_is_attributed_to_the_token_user(account):
    user = _operator(account, "add_massmessage")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory(user=user).key}")
    response = client.post(
        f"/api/v1/accounts/{account.appid}/mass-messages/",
        {"title": "周报", "msgtype": "text", "content": "hi", "audience": "all"},
        format="json",
    )
    assert response.status_code == 201, response.content
    created = AuditEntry.objects.get(action=ACTION.CREATE, content_type__model="massmessage")
    assert created.actor == user and created.account == account and created.object_id == response.json()["id"]


def test_the_actor_travels_with_a_task_to_the_worker(django_user_model):
    user = django_user_model.objects.create_user("enqueuer")
    headers: dict = {}
    with audit.acting_as(user):
        audit._actor_to_message(headers=headers)
    assert headers == {audit.ACTOR_HEADER: user.pk}

    task = celery_app.tasks[audit_entries_prune_task.name]
    task.push_request(id="t-1", **headers)
    try:
        assert audit.current_actor() is None
        audit._actor_from_message(task_id="t-1", task=task)
        assert audit.current_actor() == user
        audit._actor_reset(task_id="t-1")
        assert audit.current_actor() is None
    finally:
        task.pop_request()


def test_nothing_is_attributed_outside_a_request_or_task(account):
    wechat_tags.tag_create(account=account, name="系统")
    assert AuditEntry.objects.get(action=ACTION.WECHAT_CALL).actor is None


def test_entries_older_than_the_retention_are_pruned(settings, account):
    wechat_tags.tag_create(account=account, name="旧")
    old = AuditEntry.objects.count()
    AuditEntry.objects.update(timestamp=timezone.now() - timedelta(days=400))
    wechat_tags.tag_create(account=account, name="新")
    settings.AUDIT_ENTRY_DAYS = 0
    assert audit.audit_entries_prune() == 0
    settings.AUDIT_ENTRY_DAYS = 365
    assert audit_entries_prune_task.delay().get() == old
    assert AuditEntry.objects.get().timestamp > timezone.now() - timedelta(minutes=1)


# The admin: read-only, searchable, scoped; no bulk delete; single deletes for superusers only.


@pytest.fixture
def two_accounts(make_account, account):
    other = make_account(appid="wx00000000000000ff")
    wechat_tags.tag_create(account=account, name="mine")
    wechat_tags.tag_create(account=other, name="theirs")
    return account, other


def test_an_operator_sees_only_their_accounts_entries(client, two_accounts):
    mine, other = two_accounts
    client.force_login(_operator(mine, "view_auditentry"))
    page = client.get("/en/admin/accounts/auditentry/").content.decode()
    assert mine.appid in page and other.appid not in page
    theirs = AuditEntry.objects.get(account=other, action=ACTION.WECHAT_CALL)
    assert client.get(f"/en/admin/accounts/auditentry/{theirs.pk}/change/").status_code == 302  # not found: back to list


def test_the_trail_is_searchable_by_endpoint(client, two_accounts, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("boss", "b@example.com", "pw"))
    page = client.get("/en/admin/accounts/auditentry/", {"q": "tags/create"}).content.decode()
    assert page.count(Endpoint.TAGS_CREATE.path) >= 2
    assert "2 results" in page


def test_no_one_deletes_entries_in_bulk_and_operators_not_at_all(client, two_accounts, django_user_model):
    mine, _ = two_accounts
    operator = _operator(mine, "view_auditentry", "delete_auditentry", "change_auditentry")
    entry = AuditEntry.objects.get(account=mine, action=ACTION.WECHAT_CALL)
    client.force_login(operator)
    page = client.get("/en/admin/accounts/auditentry/").content.decode()
    assert "delete_selected" not in page
    refused = client.post("/en/admin/accounts/auditentry/", {"action": "delete_selected", "_selected_action": [entry.pk]})
    assert refused.status_code in (200, 302)
    assert client.post(f"/en/admin/accounts/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(f"/en/admin/accounts/auditentry/{entry.pk}/change/", {}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()

    client.force_login(django_user_model.objects.create_superuser("boss", "b@example.com", "pw"))
    assert "delete_selected" not in client.get("/en/admin/accounts/auditentry/").content.decode()
    assert client.post(f"/en/admin/accounts/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not AuditEntry.objects.filter(pk=entry.pk).exists()


def test_a_refused_call_shows_its_errcode_and_meaning_in_the_list(client, account, sandbox_app, django_user_model):
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.TAGS_CREATE.path, kind="errcode", value=45157)
    with pytest.raises(WeChatError):
        wechat_tags.tag_create(account=account, name="重复")
    client.force_login(django_user_model.objects.create_superuser("boss", "b@example.com", "pw"))
    page = client.get("/admin/accounts/auditentry/").content.decode()
    assert "45157 标签名非法或与其他标签重名" in page


def test_a_mass_send_that_beat_starts_is_attributed_to_who_scheduled_it(account, sandbox_app, django_capture_on_commit_callbacks):
    from messaging.mass.services import dispatch
    from messaging.templatemsg.tests.template_support import add_followers

    add_followers(account, sandbox_app, 3)
    user = _operator(account, "add_massmessage")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory(user=user).key}")
    body = {"title": "周报", "msgtype": "text", "content": "hi", "audience": "all"}
    assert client.post(f"/api/v1/accounts/{account.appid}/mass-messages/", body, format="json").status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        dispatch.mass_dispatch_due(now=timezone.now() + timedelta(seconds=1))  # beat: no request, no actor
    entry = AuditEntry.objects.get(action=ACTION.WECHAT_CALL, endpoint=Endpoint.MASS_SENDALL.path)
    assert (entry.actor, entry.errcode, entry.account) == (user, 0, account)


def test_a_push_is_in_the_trail_once_not_once_per_message(account, sandbox_app, django_capture_on_commit_callbacks, settings):
    from messaging.templatemsg import services as template_services
    from messaging.templatemsg.models import TemplateMessage
    from messaging.templatemsg.tests.template_support import ORDER_DATA, add_followers, seed_template

    settings.TEMPLATE_PUSH_CONCURRENCY = 1  # one transaction per test: the sends run in this thread
    openids = add_followers(account, sandbox_app, 12)
    user = _operator(account, "add_templatepush")
    template = seed_template(sandbox_app, account)
    before = AuditEntry.objects.count()
    with django_capture_on_commit_callbacks(execute=True), audit.acting_as(user):
        push = template_services.template_push_create(
            account=account,
            name="双十一",
            template=template,
            data=ORDER_DATA,
            audience="openids",
            openids=openids,
            created_by=user,
        )
    assert TemplateMessage.objects.filter(push=push, status="success").count() == 12
    entries = AuditEntry.objects.all()[: AuditEntry.objects.count() - before]
    assert {(e.content_type.model, e.action) for e in entries} == {("templatepush", ACTION.CREATE)}
    assert all(e.actor == user for e in entries)
    assert not AuditEntry.objects.filter(endpoint=Endpoint.TEMPLATE_SEND.path).exists()


def test_a_template_message_sent_through_the_api_is_in_the_trail_with_its_sender(account, sandbox_app):
    from messaging.templatemsg.tests.template_support import ORDER_DATA, ORDER_TEMPLATE_ID, add_followers, seed_template

    seed_template(sandbox_app, account)
    openid = add_followers(account, sandbox_app, 1)[0]
    user = _operator(account, "add_templatemessage")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory(user=user).key}")
    body = {"touser": openid, "template_id": ORDER_TEMPLATE_ID, "data": ORDER_DATA}
    response = client.post(f"/api/v1/accounts/{account.appid}/template-messages/", body, format="json")
    assert response.status_code == 201, response.content
    created = AuditEntry.objects.get(content_type__model="templatemessage", action=ACTION.CREATE)
    assert created.actor == user and created.account == account and created.object_id == response.json()["id"]


def test_the_api_call_log_is_not_deleted_in_bulk_or_by_operators(client, account):
    from wechat.models import ApiCallLog

    wechat_tags.tags_list(account=account)
    row = ApiCallLog.objects.filter(account=account).first()
    client.force_login(_operator(account, "view_apicalllog", "delete_apicalllog"))
    assert "delete_selected" not in client.get("/en/admin/wechat/apicalllog/").content.decode()
    assert client.post(f"/en/admin/wechat/apicalllog/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ApiCallLog.objects.filter(pk=row.pk).exists()

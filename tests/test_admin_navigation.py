"""The back office as an operator first meets it: grouped by job, in Chinese, and saying why a page is empty."""

import re

import pytest
from django.contrib import admin, messages
from django.contrib.auth.models import Permission, User
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from django.utils import translation

from followers.models import Tag
from followers.tests.factories import FollowerFactory
from messaging.mass.admin.inlines import job_status_label
from messaging.mass.models import MassMessage
from messaging.mass.tests.factories import MassBatchFactory, MassMessageEventFactory, MassMessageFactory
from wxsite.admin_site import sidebar_navigation

pytestmark = pytest.mark.django_db

JOB_ORDER = ["公众号与粉丝", "消息与回复", "群发与推送", "系统"]
BEAT_MODELS = {"periodictask", "clockedschedule", "crontabschedule", "solarschedule", "intervalschedule"}


@pytest.fixture
def superuser_client(client):
    client.force_login(User.objects.create_superuser("root", password="pw-nav-1"))
    return client


@pytest.fixture
def staff_with_every_permission(db):
    user = User.objects.create_user("staff", password="pw-nav-2", is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    return user


def group_names(response) -> list[str]:
    return [str(group["name"]) for group in response.context["app_list"]]


def models_of(response, group: str) -> set[str]:
    app = next(app for app in response.context["app_list"] if str(app["name"]) == group)
    return {model["object_name"].lower() for model in app["models"]}


def test_the_index_follows_the_operators_jobs_with_celery_last(superuser_client, account):
    response = superuser_client.get("/admin/")
    names = group_names(response)
    assert [name for name in names if name in JOB_ORDER] == JOB_ORDER
    assert names[0] == "公众号与粉丝" and names[-1] == "系统"
    assert {"follower", "tag", "officialaccount"} <= models_of(response, "公众号与粉丝")
    assert {"inboundmessage", "autoreplyrule", "conversation"} <= models_of(response, "消息与回复")
    assert BEAT_MODELS <= models_of(response, "系统")
    for group in names[:-1]:
        assert not BEAT_MODELS & models_of(response, group)


def test_celery_tables_are_for_superusers_only(client, staff_with_every_permission, account):
    account.operators.add(staff_with_every_permission)
    client.force_login(staff_with_every_permission)
    response = client.get("/admin/")
    listed = {model["object_name"].lower() for app in response.context["app_list"] for model in app["models"]}
    assert "follower" in listed and not BEAT_MODELS & listed
    assert "周期性任务" not in response.content.decode()
    assert client.get("/admin/django_celery_beat/periodictask/").status_code == 403


def test_the_sidebar_lists_the_groups_and_skips_what_is_not_registered(superuser_client, account):
    request = superuser_client.get("/admin/").wsgi_request
    with translation.override("zh-hans"):
        titles = [str(section["title"]) for section in sidebar_navigation(request)]
        assert titles[0] == "公众号与粉丝" and titles[-1] == "系统" and "数据统计" in titles
        registered = admin.site._registry.pop(Tag)
        try:
            links = [item["link"] for section in sidebar_navigation(request) for item in section["items"]]
        finally:
            admin.site._registry[Tag] = registered
    assert "/admin/followers/follower/" in links and "/admin/followers/tag/" not in links


def test_staff_without_an_account_are_told_why_the_admin_is_empty(client):
    user = User.objects.create_user("newcomer", password="pw-nav-3", is_staff=True)
    client.force_login(user)
    html = client.get("/admin/").content.decode()
    assert 'id="no-account-notice"' in html
    assert "newcomer 还不是任何公众号的运营人员" in html


def test_operators_with_an_account_get_no_such_notice(client, account):
    user = User.objects.create_user("op", password="pw-nav-4", is_staff=True)
    account.operators.add(user)
    client.force_login(user)
    assert 'id="no-account-notice"' not in client.get("/admin/").content.decode()


def test_subscribe_scenes_are_named_not_shown_as_constants(superuser_client, account):
    FollowerFactory(account=account, openid="oScene01", subscribe_scene="ADD_SCENE_QR_CODE")
    html = superuser_client.get("/admin/followers/follower/").content.decode()
    cell = re.search(r'<td class="field-subscribe_scene_label[^"]*"[^>]*>(.*?)</td>', html, re.S).group(1)
    assert cell.strip() == "扫描二维码"
    assert ">ADD_SCENE_QR_CODE<" not in html.replace(" ", "").replace("\n", "")
    filtered = superuser_client.get("/admin/followers/follower/", {"subscribe_scene__exact": "ADD_SCENE_QR_CODE"})
    assert [f.openid for f in filtered.context["cl"].result_list] == ["oScene01"]


def test_a_31_character_tag_name_is_refused_not_cut(superuser_client, account):
    form = superuser_client.get("/admin/followers/tag/add/").content.decode()
    name_input = re.search(r'<input[^>]*name="name"[^>]*>', form).group(0)
    assert "maxlength" not in name_input
    response = superuser_client.post("/admin/followers/tag/add/", {"account": account.pk, "name": "a" * 31})
    assert response.status_code == 200
    assert "确保该变量包含不超过 30 字符 (目前字符数 31)。" in response.content.decode()
    assert not Tag.objects.exists()


def test_chinese_pages_have_no_english_field_labels(superuser_client, account):
    html = superuser_client.get(f"/admin/accounts/officialaccount/{account.pk}/change/").content.decode()
    assert "创建时间" in html and "Created at" not in html and "Updated at" not in html
    message = MassMessageFactory(account=account, msgtype=MassMessage.MsgType.IMAGE)
    html = superuser_client.get(f"/admin/mass/massmessage/{message.pk}/change/").content.decode()
    assert "Media_id" not in html


def test_the_two_box_picker_speaks_chinese(superuser_client):
    catalog = superuser_client.get("/admin/jsi18n/").content.decode()
    assert "选中左侧的%s" in catalog or "\\u9009\\u4e2d\\u5de6\\u4fa7\\u7684%s" in catalog


def test_mass_history_and_job_states_are_named(superuser_client, account):
    message = MassMessageFactory(account=account)
    MassMessageEventFactory(message=message)
    MassBatchFactory(message=message, job_status="send success")
    html = superuser_client.get(f"/admin/mass/massmessage/{message.pk}/change/").content.decode()
    assert "发送成功" in html and "send success" not in html
    assert "草稿" in html and "定时" in html
    assert "draft → scheduled" not in html
    with translation.override("zh-hans"):
        assert MassMessageEventFactory.build(old_status="scheduled", new_status="sending").status_label("scheduled") == "定时"
        assert job_status_label("err(30003)") == "发送失败（微信错误 30003）"


def test_one_name_per_thing_in_chinese(superuser_client, account):
    html = superuser_client.get("/admin/templatemsg/templatepush/").content.decode()
    assert "模板消息群发" in html and "定时模板消息推送" not in html
    assert "客服帐号" not in superuser_client.get("/admin/kefu/kfaccount/").content.decode()


def test_messages_keep_an_openid_as_written(account):
    user = User.objects.create_superuser("root2", password="pw-nav-5")
    request = RequestFactory().get("/admin/")
    request.user, request.session = user, SessionStore()
    request._messages = FallbackStorage(request)
    messages.error(request, "oFollower0001 has unfollowed; nothing was sent.")
    with translation.override("zh-hans"):
        html = admin.site.index(request).render().content.decode()
    assert "oFollower0001 has unfollowed" in html and "OFollower0001" not in html
    assert 'class="messagelist' in html

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.admin import helpers
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from followers.models import Follower, FollowerOperation, Tag
from followers.tests.factories import FollowerFactory, FollowerOperationFactory, TagFactory
from followers.tests.tagging import calls, followers, synced_tag
from messaging.inbound.tests.factories import InboundMessageFactory
from sandbox.models import SandboxFollower, SandboxTag
from sandbox.tests.factories import SandboxFaultFactory, SandboxTagFactory
from wechat.api.endpoints import Endpoint
from wechat.models import SyncStatus

pytestmark = pytest.mark.django_db

LIST = "/en/admin/followers/follower/"


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", None)
    client.force_login(user)
    return client


@pytest.fixture
def people(account, sandbox_app):
    return followers(account, sandbox_app, 6)


def openids_in(response):
    return {f.openid for f in response.context["cl"].result_list}


def test_the_list_is_fast_for_a_full_page(admin_client, account, sandbox_app, django_assert_max_num_queries):
    people = followers(account, sandbox_app, 100)
    tags = [synced_tag(account, sandbox_app, f"t{i}") for i in range(3)]
    for follower in people:
        follower.tags.set(tags)
    with django_assert_max_num_queries(16):
        response = admin_client.get(LIST)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 100
    assert (
        '<span class="wx-chip">t0</span><span class="wx-chip">t1</span><span class="wx-chip">t2</span>'
        in response.content.decode()
    )


def test_operators_see_only_their_accounts_followers(client, django_user_model, make_account, account, sandbox_app):
    other = make_account(appid="wx00000000000000ff")
    followers(account, sandbox_app, 2)
    FollowerFactory(account=other, openid="oOtherAccount")
    operator = django_user_model.objects.create_user("op", password=None, is_staff=True)
    operator.user_permissions.add(*Permission.objects.filter(codename__in=["view_follower", "change_follower"]))
    account.operators.add(operator)
    client.force_login(operator)
    response = client.get(LIST)
    assert "oOtherAccount" not in openids_in(response) and len(openids_in(response)) == 2
    assert other.name not in response.content.decode()


def test_search_by_openid_remark_and_unionid(admin_client, people):
    Follower.objects.filter(pk=people[1].pk).update(remark="张三VIP")
    Follower.objects.filter(pk=people[2].pk).update(unionid="uUnionXYZ")
    assert openids_in(admin_client.get(LIST, {"q": people[0].openid})) == {people[0].openid}
    assert openids_in(admin_client.get(LIST, {"q": "张三"})) == {people[1].openid}
    assert openids_in(admin_client.get(LIST, {"q": "uUnionXYZ"})) == {people[2].openid}


def test_filters_by_tag_subscription_scene_blacklist_and_date(admin_client, account, sandbox_app, people):
    tag = synced_tag(account, sandbox_app, "VIP")
    people[0].tags.add(tag)
    Follower.objects.filter(pk=people[1].pk).update(subscribed=False)
    Follower.objects.filter(pk=people[2].pk).update(subscribe_scene="ADD_SCENE_QR_CODE")
    Follower.objects.filter(pk=people[3].pk).update(blacklisted=True)
    Follower.objects.filter(pk=people[4].pk).update(subscribe_time=timezone.now() - timedelta(days=400))
    Follower.objects.exclude(pk=people[4].pk).update(subscribe_time=timezone.now())
    assert openids_in(admin_client.get(LIST, {"tag": tag.pk})) == {people[0].openid}
    assert people[0].openid not in openids_in(admin_client.get(LIST, {"tag": "none"}))
    assert openids_in(admin_client.get(LIST, {"subscribed__exact": "0"})) == {people[1].openid}
    assert openids_in(admin_client.get(LIST, {"subscribe_scene": "ADD_SCENE_QR_CODE"})) == {people[2].openid}
    assert openids_in(admin_client.get(LIST, {"blacklisted__exact": "1"})) == {people[3].openid}
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    last_7_days = {
        "subscribe_time__gte": str(midnight - timedelta(days=7)),
        "subscribe_time__lt": str(midnight + timedelta(days=1)),
    }
    recent = admin_client.get(LIST, last_7_days)
    assert people[4].openid not in openids_in(recent) and len(openids_in(recent)) == 5


def read_csv(response):
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_export_streams_the_filtered_list(admin_client, account, sandbox_app, people):
    tag = synced_tag(account, sandbox_app, "广东")
    people[0].tags.add(tag)
    people[1].tags.add(tag)
    Follower.objects.filter(pk=people[1].pk).update(remark="李四", blacklisted=True)
    rows = read_csv(admin_client.get(LIST + "export.csv", {"tag": tag.pk}))
    assert {r["openid"] for r in rows} == {people[0].openid, people[1].openid}
    row = next(r for r in rows if r["openid"] == people[1].openid)
    assert (row["remark"], row["tags"], row["blacklisted"], row["appid"]) == ("李四", "广东", "1", account.appid)


def test_the_changelist_links_the_export_with_its_filters(admin_client, people):
    response = admin_client.get(LIST, {"blacklisted__exact": "1"})
    assert 'href="/en/admin/followers/follower/export.csv?blacklisted__exact=1"' in response.content.decode()


def test_csv_export_of_selected_followers(admin_client, people):
    response = admin_client.post(
        LIST, {"action": "export_csv", helpers.ACTION_CHECKBOX_NAME: [people[0].pk, people[2].pk], "index": 0}
    )
    assert {r["openid"] for r in read_csv(response)} == {people[0].openid, people[2].openid}


def test_add_to_tag_asks_for_the_tag_then_queues_batches(
    admin_client, account, sandbox_app, people, django_capture_on_commit_callbacks
):
    tag = synced_tag(account, sandbox_app, "VIP")
    TagFactory(account=account, name="未同步")  # not on WeChat yet: not offered
    selected = [people[0].pk, people[1].pk, people[2].pk]
    page = admin_client.post(LIST, {"action": "add_to_tag", helpers.ACTION_CHECKBOX_NAME: selected, "index": 0})
    assert page.status_code == 200
    assert list(page.context["form"].fields["tag"].queryset) == [tag]
    with django_capture_on_commit_callbacks(execute=True):
        done = admin_client.post(
            LIST,
            {"action": "add_to_tag", helpers.ACTION_CHECKBOX_NAME: selected, "index": 0, "apply": "1", "tag": tag.pk},
            follow=True,
        )
    assert "3 follower(s) queued for “VIP” in 1 call(s) to WeChat." in done.content.decode()
    assert set(tag.followers.values_list("pk", flat=True)) == set(selected)
    assert Tag.objects.get(pk=tag.pk).follower_count == 3
    assert SandboxFollower.objects.filter(tagids=[tag.wechat_id]).count() == 3


def test_add_to_tag_shows_the_20_tag_limit(admin_client, account, sandbox_app, people):
    tag = synced_tag(account, sandbox_app, "VIP")
    people[0].tags.set([TagFactory(account=account, name=f"t{i}", wechat_id=300 + i) for i in range(20)])
    response = admin_client.post(
        LIST,
        {"action": "add_to_tag", helpers.ACTION_CHECKBOX_NAME: [people[0].pk], "index": 0, "apply": "1", "tag": tag.pk},
        follow=True,
    )
    assert "45059" in response.content.decode() and not FollowerOperation.objects.exists()


def test_remove_from_tag(admin_client, account, sandbox_app, people, django_capture_on_commit_callbacks):
    tag = synced_tag(account, sandbox_app, "VIP")
    people[0].tags.add(tag)
    SandboxFollower.objects.filter(openid=people[0].openid).update(tagids=[tag.wechat_id])
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            LIST,
            {"action": "remove_from_tag", helpers.ACTION_CHECKBOX_NAME: [people[0].pk], "index": 0, "apply": "1", "tag": tag.pk},
        )
    assert not tag.followers.exists() and SandboxFollower.objects.get(openid=people[0].openid).tagids == []


def test_blacklist_actions(admin_client, people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(LIST, {"action": "blacklist_add", helpers.ACTION_CHECKBOX_NAME: [people[0].pk], "index": 0})
    assert Follower.objects.get(pk=people[0].pk).blacklisted
    assert SandboxFollower.objects.get(openid=people[0].openid).blacklisted
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(LIST, {"action": "blacklist_remove", helpers.ACTION_CHECKBOX_NAME: [people[0].pk], "index": 0})
    assert not Follower.objects.get(pk=people[0].pk).blacklisted


def test_pull_blacklist_button(admin_client, account, sandbox_app, people, django_capture_on_commit_callbacks):
    SandboxFollower.objects.filter(openid=people[5].openid).update(blacklisted=True)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(LIST + "pull/", {"account": account.pk})
    assert list(Follower.objects.filter(blacklisted=True).values_list("openid", flat=True)) == [people[5].openid]


def test_the_detail_page_shows_tags_location_and_messages(admin_client, account, sandbox_app, people):
    follower = people[0]
    follower.tags.add(synced_tag(account, sandbox_app, "广东"))
    Follower.objects.filter(pk=follower.pk).update(
        latitude=Decimal("23.137466"), longitude=Decimal("113.352425"), location_precision=119.385040
    )
    for i, text in enumerate(["你好", "查询订单"]):
        InboundMessageFactory(
            account=account,
            openid=follower.openid,
            msg_type="text",
            content=text,
            dedupe_key=f"m{i}",
            raw_xml="<xml/>",
            create_time=timezone.now(),
        )
    InboundMessageFactory(
        account=account,
        openid="oSomeoneElse",
        msg_type="text",
        content="别人的",
        dedupe_key="x",
        raw_xml="<xml/>",
        create_time=timezone.now(),
    )
    page = admin_client.get(f"{LIST}{follower.pk}/change/").content.decode()
    assert "广东" in page and "23.137466" in page and "openstreetmap.org/?mlat=23.137466&amp;mlon=113.352425" in page
    # The messages are in the one thread view of customer service, linked by URL name.
    thread_url = reverse("admin:kefu_conversation_thread", args=[account.pk, follower.openid])
    assert thread_url in page
    thread = admin_client.get(thread_url, follow=True).content.decode()
    assert thread.index("你好") < thread.index("查询订单") and "别人的" not in thread


def test_editing_the_remark_syncs_it_to_wechat(admin_client, people, django_capture_on_commit_callbacks):
    follower = people[0]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{LIST}{follower.pk}/change/", {"remark": "王五"})
    assert response.status_code == 302
    assert Follower.objects.get(pk=follower.pk).remark == "王五"
    assert SandboxFollower.objects.get(openid=follower.openid).remark == "王五"


def test_a_remark_too_long_is_a_form_error(admin_client, people):
    response = admin_client.post(f"{LIST}{people[0].pk}/change/", {"remark": "备" * 30})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["remark"]
    assert Follower.objects.get(pk=people[0].pk).remark == ""
    assert not FollowerOperation.objects.exists()


# Tag admin.

TAGS = "/en/admin/followers/tag/"


def test_adding_a_tag_in_the_admin_sends_it_to_wechat(admin_client, account, sandbox_app, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(TAGS + "add/", {"account": account.pk, "name": "新客户"})
    assert response.status_code == 302
    tag = Tag.objects.get(name="新客户")
    assert tag.sync_status == SyncStatus.SYNCED and SandboxTag.objects.get(tagid=tag.wechat_id).name == "新客户"


def test_a_tag_name_over_30_bytes_is_a_form_error(admin_client, account, sandbox_app):
    response = admin_client.post(TAGS + "add/", {"account": account.pk, "name": "一二三四五六七八九十一"})
    assert response.status_code == 200 and "45158" in response.content.decode()
    assert not Tag.objects.exists() and not calls(Endpoint.TAGS_CREATE.path, errcode=None)


def test_the_tag_list_shows_the_last_wechat_error_on_the_badge(admin_client, account, sandbox_app):
    TagFactory(account=account, name="坏", sync_status=SyncStatus.FAILED, last_error="45157: 标签名非法或与其他标签重名")
    page = admin_client.get(TAGS).content.decode()
    assert 'title="45157: 标签名非法或与其他标签重名"' in page


def test_a_delete_wechat_refuses_is_shown_and_keeps_the_tag(admin_client, account, sandbox_app):
    tag = synced_tag(account, sandbox_app, "大客户")
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.TAGS_DELETE.path, kind="errcode", value=45057)
    response = admin_client.post(f"{TAGS}{tag.pk}/delete/", {"post": "yes"}, follow=True)
    assert "45057" in response.content.decode()
    assert Tag.objects.filter(pk=tag.pk).exists()


def test_system_tags_cannot_be_deleted_or_renamed(admin_client, account):
    star = TagFactory(account=account, name="星标组", wechat_id=2, sync_status=SyncStatus.SYNCED)
    assert admin_client.get(f"{TAGS}{star.pk}/delete/").status_code == 403
    admin_client.post(f"{TAGS}{star.pk}/change/", {"name": "改名"})
    assert Tag.objects.get(pk=star.pk).name == "星标组"


def test_pull_tags_button(admin_client, account, sandbox_app, django_capture_on_commit_callbacks):
    SandboxTagFactory(app=sandbox_app, tagid=127, name="广东")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(TAGS + "pull/", {"account": account.pk})
    assert set(Tag.objects.values_list("name", flat=True)) == {"广东", "星标组"}


def test_failed_changes_are_listed_and_can_be_retried(
    admin_client, account, sandbox_app, people, django_capture_on_commit_callbacks
):
    operation = FollowerOperationFactory(
        account=account, kind="blacklist", openids=[people[0].openid], sync_status=SyncStatus.FAILED, last_error="-1: busy"
    )
    page = admin_client.get("/en/admin/followers/followeroperation/").content.decode()
    assert 'title="-1: busy"' in page
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/en/admin/followers/followeroperation/",
            {"action": "retry", helpers.ACTION_CHECKBOX_NAME: [operation.pk], "index": 0},
        )
    assert FollowerOperation.objects.get(pk=operation.pk).sync_status == SyncStatus.SYNCED

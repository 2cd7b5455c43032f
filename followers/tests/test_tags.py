import pytest
from django.core.exceptions import ValidationError

from conftest import sample_json
from followers import tasks
from followers.models import Follower, Tag
from followers.services import operations
from followers.services import tags as tag_services
from followers.tests.factories import TagFactory
from followers.tests.tagging import allow_eager_retries, calls, followers, synced_tag
from sandbox.endpoints import tags as sandbox_tags
from sandbox.models import SandboxCall, SandboxFollower, SandboxTag
from sandbox.tests.factories import SandboxFaultFactory, SandboxTagFactory
from wechat.api.endpoints import Endpoint
from wechat.gateway import client_for
from wechat.models import SyncStatus

pytestmark = pytest.mark.django_db

ELEVEN_HANZI = "广东省深圳市南山区科技园"[:11]  # 33 bytes in UTF-8


def create(account, name, capture):
    with capture(execute=True):
        tag = tag_services.tag_create(account=account, name=name)
    tag.refresh_from_db()
    return tag


def test_a_new_tag_is_saved_locally_then_created_on_wechat_after_commit(account, sandbox_app, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        tag = tag_services.tag_create(account=account, name="广东")
        assert tag.sync_status == SyncStatus.PENDING and tag.wechat_id is None
        assert not calls(Endpoint.TAGS_CREATE.path)
    for callback in callbacks:
        callback()
    tag.refresh_from_db()
    assert tag.sync_status == SyncStatus.SYNCED and tag.last_error == ""
    assert SandboxTag.objects.get(app=sandbox_app, tagid=tag.wechat_id).name == "广东"
    assert calls(Endpoint.TAGS_CREATE.path)[0].request_json == sample_json("api/tags_create_request.json")


def test_sync_is_idempotent_once_the_tag_is_synced(account, sandbox_app, django_capture_on_commit_callbacks):
    tag = create(account, "VIP", django_capture_on_commit_callbacks)
    assert tag_services.tag_sync(tag_id=tag.pk) is None
    assert len(calls(Endpoint.TAGS_CREATE.path)) == 1


def test_a_rename_is_sent_as_tags_update(account, sandbox_app, django_capture_on_commit_callbacks):
    tag = create(account, "VIP", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        tag_services.tag_rename(tag=tag, name="金卡会员")
    tag.refresh_from_db()
    assert tag.sync_status == SyncStatus.SYNCED
    assert SandboxTag.objects.get(app=sandbox_app, tagid=tag.wechat_id).name == "金卡会员"
    assert calls(Endpoint.TAGS_UPDATE.path)[0].request_json == {"tag": {"id": tag.wechat_id, "name": "金卡会员"}}


def test_delete_removes_the_tag_on_wechat_and_then_locally(account, sandbox_app):
    tag = synced_tag(account, sandbox_app, "VIP")
    tag_services.tag_delete(tag=tag)
    assert not Tag.objects.filter(pk=tag.pk).exists()
    assert not SandboxTag.objects.filter(app=sandbox_app).exists()


def test_a_delete_wechat_refuses_keeps_the_local_tag(account, sandbox_app):
    tag = synced_tag(account, sandbox_app, "大客户")
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.TAGS_DELETE.path, kind="errcode", value=45057, remaining=1)
    with pytest.raises(operations.WeChatError) as exc:
        tag_services.tag_delete(tag=tag)
    assert exc.value.errcode == 45057
    assert Tag.objects.filter(pk=tag.pk).exists()


def test_deleting_a_tag_wechat_no_longer_has_deletes_it_locally(account, sandbox_app):
    tag = synced_tag(account, sandbox_app, "旧标签")
    SandboxTag.objects.all().delete()
    tag_services.tag_delete(tag=tag)
    assert not Tag.objects.filter(pk=tag.pk).exists()


# WeChat's limits: refused before calling, and WeChat's own error when a request gets there anyway.


def test_a_name_over_30_bytes_is_refused_before_calling_wechat(account):
    with pytest.raises(ValidationError, match="45158"):
        tag_services.tag_create(account=account, name=ELEVEN_HANZI)
    assert not Tag.objects.exists() and not SandboxCall.objects.filter(api=Endpoint.TAGS_CREATE.path).exists()


def test_wechat_answers_45158_for_a_long_name_that_reaches_it(account, sandbox_app):
    tag = TagFactory(account=account, name=ELEVEN_HANZI)
    tasks.tag_sync.delay(tag.pk)
    tag.refresh_from_db()
    assert tag.sync_status == SyncStatus.FAILED and tag.last_error.startswith("45158")
    assert tag.wechat_id is None


def test_a_duplicate_or_system_name_is_refused_before_calling_wechat(account, sandbox_app):
    synced_tag(account, sandbox_app, "VIP")
    for name in ("VIP", "星标组", "  "):
        with pytest.raises(ValidationError):
            tag_services.tag_create(account=account, name=name)
    assert Tag.objects.count() == 1 and not calls(Endpoint.TAGS_CREATE.path, errcode=None)


def test_wechat_answers_45157_when_a_rename_collides_with_a_tag_only_wechat_has(account, sandbox_app):
    tag = synced_tag(account, sandbox_app, "VIP")
    SandboxTagFactory(app=sandbox_app, tagid=150, name="控制台建的")
    tag.name, tag.sync_status = "控制台建的", SyncStatus.PENDING
    tag.save()
    tasks.tag_sync.delay(tag.pk)
    tag.refresh_from_db()
    assert tag.sync_status == SyncStatus.FAILED and tag.last_error.startswith("45157")


def test_the_101st_tag_is_refused_before_calling_wechat(account, sandbox_app):
    Tag.objects.bulk_create([Tag(account=account, name=f"t{i}", wechat_id=100 + i) for i in range(100)])
    TagFactory(account=account, name="星标组", wechat_id=2)  # system tags do not count
    with pytest.raises(ValidationError, match="45056"):
        tag_services.tag_create(account=account, name="one more")
    assert Tag.objects.count() == 101


def test_wechat_answers_45056_when_it_already_has_100_tags(account, sandbox_app):
    SandboxTag.objects.bulk_create([SandboxTag(app=sandbox_app, tagid=100 + i, name=f"t{i}") for i in range(100)])
    tag = TagFactory(account=account, name="one more")
    tasks.tag_sync.delay(tag.pk)
    tag.refresh_from_db()
    assert tag.sync_status == SyncStatus.FAILED and tag.last_error.startswith("45056")


def test_system_tags_cannot_be_renamed_or_deleted(account, sandbox_app):
    star = TagFactory(account=account, name="星标组", wechat_id=2, sync_status=SyncStatus.SYNCED)
    with pytest.raises(ValidationError, match="45058"):
        tag_services.tag_rename(tag=star, name="重要")
    with pytest.raises(ValidationError, match="45058"):
        tag_services.tag_delete(tag=star)
    assert Tag.objects.get(pk=star.pk).name == "星标组"
    assert not SandboxCall.objects.exists()


def test_wechat_answers_45058_for_a_system_tag(account, sandbox_app):
    star = TagFactory(account=account, name="重要", wechat_id=2, sync_status=SyncStatus.PENDING)
    tasks.tag_sync.delay(star.pk)
    star.refresh_from_db()
    assert star.sync_status == SyncStatus.FAILED and star.last_error.startswith("45058")


def test_wechat_answers_45159_for_a_tag_it_no_longer_has(account, sandbox_app):
    tag = synced_tag(account, sandbox_app, "VIP")
    SandboxTag.objects.all().delete()
    tag.name, tag.sync_status = "VIP2", SyncStatus.PENDING
    tag.save()
    tasks.tag_sync.delay(tag.pk)
    tag.refresh_from_db()
    assert tag.sync_status == SyncStatus.FAILED and tag.last_error.startswith("45159")


# Transient errors and timeouts.


def test_a_busy_wechat_is_retried_by_the_task(account, sandbox_app, django_capture_on_commit_callbacks, monkeypatch):
    allow_eager_retries(monkeypatch)
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.TAGS_CREATE.path, kind="errcode", value=-1, remaining=2)
    tag = create(account, "VIP", django_capture_on_commit_callbacks)
    assert tag.sync_status == SyncStatus.SYNCED
    assert [c.errcode for c in calls(Endpoint.TAGS_CREATE.path, errcode=None)] == [-1, -1, 0]


def test_a_wechat_that_stays_busy_leaves_the_tag_failed_with_the_error(
    account, sandbox_app, django_capture_on_commit_callbacks, monkeypatch
):
    allow_eager_retries(monkeypatch)
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.TAGS_CREATE.path, kind="errcode", value=-1)
    tag = create(account, "VIP", django_capture_on_commit_callbacks)
    assert tag.sync_status == SyncStatus.FAILED and tag.last_error.startswith("-1")
    assert len(calls(Endpoint.TAGS_CREATE.path, errcode=-1)) == 6  # the first try and 5 retries


def test_a_create_that_timed_out_after_taking_effect_adopts_wechats_tag(
    account, sandbox_app, django_capture_on_commit_callbacks, monkeypatch
):
    allow_eager_retries(monkeypatch)
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.TAGS_CREATE.path, kind="timeout_after", remaining=1)
    tag = create(account, "VIP", django_capture_on_commit_callbacks)
    assert tag.sync_status == SyncStatus.SYNCED
    assert SandboxTag.objects.filter(app=sandbox_app).count() == 1
    assert tag.wechat_id == SandboxTag.objects.get(app=sandbox_app).tagid


# Pulls.


def test_sandbox_tags_get_has_the_shape_of_wechats_sample(account, sandbox_app):
    SandboxTagFactory(app=sandbox_app, tagid=127, name="广东")
    body = client_for(account).get("tags/get")
    sample = sample_json("api/tags_get_response.json")
    assert body.keys() == sample.keys()
    assert [set(t) for t in body["tags"]] == [set(t) for t in sample["tags"][1:]]


def test_pull_upserts_tags_by_wechat_id_with_counts(account, sandbox_app):
    SandboxTagFactory(app=sandbox_app, tagid=127, name="广东")
    SandboxTagFactory(app=sandbox_app, tagid=128, name="上海")
    followers(account, sandbox_app, 3)
    SandboxFollower.objects.filter(app=sandbox_app).update(tagids=[127])
    renamed = TagFactory(account=account, name="广东老名字", wechat_id=127, sync_status=SyncStatus.SYNCED)
    gone = TagFactory(account=account, name="已删除", wechat_id=160, sync_status=SyncStatus.SYNCED)
    unsent = TagFactory(account=account, name="上海")  # its create timed out; WeChat has it
    result = tag_services.tags_pull(account=account)
    assert (result.created, result.updated, result.deleted) == (1, 2, 1)
    tags = {t.wechat_id: t for t in Tag.objects.filter(account=account)}
    assert set(tags) == {2, 127, 128}
    assert tags[127].pk == renamed.pk and tags[127].name == "广东" and tags[127].follower_count == 3
    assert tags[128].pk == unsent.pk and tags[128].sync_status == SyncStatus.SYNCED
    assert tags[2].name == "星标组"
    assert not Tag.objects.filter(pk=gone.pk).exists()


def test_pull_handles_two_tags_that_swapped_names_on_wechat(account, sandbox_app):
    SandboxTagFactory(app=sandbox_app, tagid=127, name="B")
    SandboxTagFactory(app=sandbox_app, tagid=128, name="A")
    TagFactory(account=account, name="A", wechat_id=127, sync_status=SyncStatus.SYNCED)
    TagFactory(account=account, name="B", wechat_id=128, sync_status=SyncStatus.SYNCED)
    tag_services.tags_pull(account=account)
    assert dict(Tag.objects.filter(wechat_id__gt=2).values_list("wechat_id", "name")) == {127: "B", 128: "A"}


def test_member_pull_pages_by_next_openid_and_replaces_local_members(account, sandbox_app, monkeypatch):
    monkeypatch.setattr(sandbox_tags, "TAG_PAGE_SIZE", 3)
    tag = synced_tag(account, sandbox_app, "VIP")
    people = followers(account, sandbox_app, 10)
    SandboxFollower.objects.filter(app=sandbox_app, openid__in=[f.openid for f in people[:8]]).update(tagids=[tag.wechat_id])
    tag.followers.add(people[9])  # untagged on WeChat's side since
    assert tag_services.tag_members_pull(tag=tag) == 8
    assert set(tag.followers.values_list("openid", flat=True)) == {f.openid for f in people[:8]}
    assert Tag.objects.get(pk=tag.pk).follower_count == 8
    pages = calls(Endpoint.TAG_USERS.path)
    assert [p.request_json.get("next_openid", "") for p in pages] == ["", people[2].openid, people[5].openid, people[7].openid]


def test_user_tag_get_has_the_shape_of_wechats_sample(account, sandbox_app):
    tag = synced_tag(account, sandbox_app, "VIP")
    followers(account, sandbox_app, 2)
    SandboxFollower.objects.update(tagids=[tag.wechat_id])
    body = client_for(account).tag.get_tag_users(tag.wechat_id)
    assert body.keys() == sample_json("api/user_tag_get_response.json").keys()


def test_pull_all_brings_tags_and_their_members(account, sandbox_app):
    SandboxTagFactory(app=sandbox_app, tagid=127, name="广东")
    people = followers(account, sandbox_app, 4)
    SandboxFollower.objects.filter(openid__in=[people[0].openid, people[1].openid]).update(tagids=[127, 2])
    tag_services.tags_pull_all(account=account)
    assert set(Follower.objects.filter(tags__wechat_id=127).values_list("openid", flat=True)) == {
        people[0].openid,
        people[1].openid,
    }
    assert Tag.objects.get(wechat_id=2).followers.count() == 2


def test_the_demo_seeder_creates_tags_with_members_and_can_run_twice(account, sandbox_app):
    from sandbox.seeding import seed_tags

    followers(account, sandbox_app, 6)
    seed_tags(account=account, app=sandbox_app)
    seed_tags(account=account, app=sandbox_app)
    counts = dict(Tag.objects.filter(account=account).values_list("name", "follower_count"))
    assert counts == {"VIP客户": 2, "广东": 2, "活动报名": 2, "星标组": 0}
    assert Follower.objects.filter(tags__name="VIP客户").count() == 2


def test_getidlist_answers_a_followers_tags_in_the_sample_shape(account, sandbox_app):
    people = followers(account, sandbox_app, 1)
    SandboxFollower.objects.update(tagids=[134, 2])
    client = client_for(account)
    assert client.tag.get_user_tag(people[0].openid) == sample_json("api/tags_getidlist_response.json")["tagid_list"]
    with pytest.raises(operations.WeChatError) as exc:
        client.tag.get_user_tag("oUnknown")
    assert exc.value.errcode == 40003


def test_pull_members_action_task_skips_tags_not_on_wechat(account, sandbox_app):
    tag = synced_tag(account, sandbox_app, "VIP")
    people = followers(account, sandbox_app, 2)
    SandboxFollower.objects.filter(openid=people[0].openid).update(tagids=[tag.wechat_id])
    assert tasks.tag_members_pull.delay(tag.pk).get() == 1
    assert tasks.tag_members_pull.delay(TagFactory(account=account, name="未同步").pk).get() is None
    assert list(tag.followers.values_list("openid", flat=True)) == [people[0].openid]

import pytest
from django.core.exceptions import ValidationError

from conftest import sample_json
from followers import tasks
from followers.models import Follower, FollowerOperation, Tag
from followers.services import operations
from followers.tests.factories import FollowerFactory, FollowerOperationFactory, TagFactory
from followers.tests.tagging import allow_eager_retries, calls, followers, synced_tag, wechat_tagids
from sandbox.models import SandboxFollower, SandboxTag
from sandbox.tests.factories import SandboxFaultFactory
from wechat.api.endpoints import Endpoint
from wechat.models import SyncStatus

pytestmark = pytest.mark.django_db


def tag_all(tag, capture, queryset=None):
    with capture(execute=True):
        return operations.followers_tag_add(tag=tag, followers=queryset or Follower.objects.all())


def test_tagging_120_followers_takes_three_calls_of_at_most_50(account, sandbox_app, django_capture_on_commit_callbacks):
    tag = synced_tag(account, sandbox_app, "VIP")
    people = followers(account, sandbox_app, 120)
    queued = tag_all(tag, django_capture_on_commit_callbacks)
    assert (queued.operations, queued.openids) == (3, 120)
    sent = calls(Endpoint.TAGS_BATCHTAGGING.path)
    assert [len(c.request_json["openid_list"]) for c in sent] == [50, 50, 20]
    assert all(c.request_json["tagid"] == tag.wechat_id for c in sent)
    assert SandboxFollower.objects.filter(tagids=[tag.wechat_id]).count() == 120
    assert tag.followers.count() == 120
    assert Tag.objects.get(pk=tag.pk).follower_count == 120
    assert set(FollowerOperation.objects.values_list("sync_status", flat=True)) == {SyncStatus.SYNCED}
    assert wechat_tagids(sandbox_app, people[0].openid) == [tag.wechat_id]


def test_the_request_has_the_shape_of_wechats_sample(account, sandbox_app, django_capture_on_commit_callbacks):
    tag = synced_tag(account, sandbox_app, "VIP")
    followers(account, sandbox_app, 2)
    tag_all(tag, django_capture_on_commit_callbacks)
    sent = calls(Endpoint.TAGS_BATCHTAGGING.path)[0].request_json
    assert sent.keys() == sample_json("api/tags_members_batchtagging_request.json").keys()


def test_untagging_removes_members_in_batches_and_lowers_the_count(account, sandbox_app, django_capture_on_commit_callbacks):
    tag = synced_tag(account, sandbox_app, "VIP")
    followers(account, sandbox_app, 60)
    tag_all(tag, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        first_55 = Follower.objects.filter(pk__in=list(Follower.objects.order_by("id").values_list("pk", flat=True)[:55]))
        operations.followers_tag_remove(tag=tag, followers=first_55)
    assert [len(c.request_json["openid_list"]) for c in calls(Endpoint.TAGS_BATCHUNTAGGING.path)] == [50, 5]
    assert tag.followers.count() == 5
    assert Tag.objects.get(pk=tag.pk).follower_count == 5
    assert SandboxFollower.objects.exclude(tagids=[]).count() == 5


def test_unsubscribed_followers_are_skipped(account, sandbox_app, django_capture_on_commit_callbacks):
    tag = synced_tag(account, sandbox_app, "VIP")
    followers(account, sandbox_app, 3)
    followers(account, sandbox_app, 2, prefix="oGone", subscribed=False)
    queued = tag_all(tag, django_capture_on_commit_callbacks)
    assert (queued.openids, queued.skipped) == (3, 2)
    assert tag.followers.count() == 3


def test_a_follower_with_20_tags_is_refused_before_calling_wechat(account, sandbox_app):
    tag = synced_tag(account, sandbox_app, "VIP")
    people = followers(account, sandbox_app, 3)
    full = [TagFactory(account=account, name=f"t{i}", wechat_id=200 + i) for i in range(20)]
    people[1].tags.set(full)
    with pytest.raises(ValidationError, match="45059") as exc:
        operations.followers_tag_add(tag=tag, followers=Follower.objects.all())
    assert people[1].openid in str(exc.value)
    assert not FollowerOperation.objects.exists()
    assert not calls(Endpoint.TAGS_BATCHTAGGING.path, errcode=None)


def test_wechat_answers_45059_when_its_follower_already_has_20_tags(account, sandbox_app, django_capture_on_commit_callbacks):
    tag = synced_tag(account, sandbox_app, "VIP")
    people = followers(account, sandbox_app, 3)
    SandboxFollower.objects.filter(openid=people[0].openid).update(tagids=list(range(200, 220)))
    tag_all(tag, django_capture_on_commit_callbacks)
    operation = FollowerOperation.objects.get()
    assert operation.sync_status == SyncStatus.FAILED and operation.last_error.startswith("45059")
    assert tag.followers.count() == 0  # nothing recorded locally when WeChat refused the batch


def test_wechat_answers_40032_for_a_list_over_50(account, sandbox_app):
    tag = synced_tag(account, sandbox_app, "VIP")
    openids = [f.openid for f in followers(account, sandbox_app, 51)]
    operation = FollowerOperationFactory(account=account, kind="tag", tag=tag, openids=openids)
    tasks.follower_operation_run.delay(operation.pk)
    operation.refresh_from_db()
    assert operation.sync_status == SyncStatus.FAILED and operation.last_error.startswith("40032")


def test_wechat_answers_40003_for_an_openid_it_does_not_know(account, sandbox_app, django_capture_on_commit_callbacks):
    tag = synced_tag(account, sandbox_app, "VIP")
    followers(account, sandbox_app, 2)
    FollowerFactory(account=account, openid="oNotOnWeChat")
    tag_all(tag, django_capture_on_commit_callbacks)
    operation = FollowerOperation.objects.get()
    assert operation.sync_status == SyncStatus.FAILED and operation.last_error.startswith("40003")


def test_wechat_answers_45159_for_a_tag_deleted_in_its_console(account, sandbox_app, django_capture_on_commit_callbacks):
    tag = synced_tag(account, sandbox_app, "VIP")
    followers(account, sandbox_app, 2)
    SandboxTag.objects.all().delete()
    tag_all(tag, django_capture_on_commit_callbacks)
    assert FollowerOperation.objects.get().last_error.startswith("45159")


def test_a_busy_wechat_is_retried_and_the_batch_goes_through(
    account, sandbox_app, django_capture_on_commit_callbacks, monkeypatch
):
    allow_eager_retries(monkeypatch)
    tag = synced_tag(account, sandbox_app, "VIP")
    followers(account, sandbox_app, 5)
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.TAGS_BATCHTAGGING.path, kind="errcode", value=-1, remaining=1)
    tag_all(tag, django_capture_on_commit_callbacks)
    assert FollowerOperation.objects.get().sync_status == SyncStatus.SYNCED
    assert tag.followers.count() == 5


def test_a_timed_out_batch_is_sent_again_and_counted_once(account, sandbox_app, django_capture_on_commit_callbacks, monkeypatch):
    allow_eager_retries(monkeypatch)
    tag = synced_tag(account, sandbox_app, "VIP")
    followers(account, sandbox_app, 5)
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.TAGS_BATCHTAGGING.path, kind="timeout_after", remaining=1)
    tag_all(tag, django_capture_on_commit_callbacks)
    assert Tag.objects.get(pk=tag.pk).follower_count == 5
    assert SandboxFollower.objects.filter(tagids=[tag.wechat_id]).count() == 5


def test_a_failed_batch_can_be_retried(account, sandbox_app, django_capture_on_commit_callbacks):
    tag = synced_tag(account, sandbox_app, "VIP")
    followers(account, sandbox_app, 3)
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.TAGS_BATCHTAGGING.path, kind="errcode", value=48001, remaining=1)
    tag_all(tag, django_capture_on_commit_callbacks)
    assert FollowerOperation.objects.get().sync_status == SyncStatus.FAILED
    with django_capture_on_commit_callbacks(execute=True):
        assert operations.follower_operations_retry(operations=FollowerOperation.objects.all()) == 1
    assert FollowerOperation.objects.get().sync_status == SyncStatus.SYNCED
    assert tag.followers.count() == 3


def test_a_tag_not_yet_on_wechat_or_a_system_tag_is_refused(account, sandbox_app):
    followers(account, sandbox_app, 2)
    unsent = TagFactory(account=account, name="新标签")
    star = TagFactory(account=account, name="星标组", wechat_id=2, sync_status=SyncStatus.SYNCED)
    for tag in (unsent, star):
        with pytest.raises(ValidationError):
            operations.followers_tag_add(tag=tag, followers=Follower.objects.all())
    assert not FollowerOperation.objects.exists()


def test_followers_of_two_accounts_at_once_are_refused(make_account, account, sandbox_app):
    other = make_account(appid="wx00000000000000ff")
    tag = synced_tag(account, sandbox_app, "VIP")
    followers(account, sandbox_app, 2)
    FollowerFactory(account=other, openid="oOther")
    with pytest.raises(ValidationError, match="one official account"):
        operations.followers_tag_add(tag=tag, followers=Follower.objects.all())
    with pytest.raises(ValidationError, match="another official account"):
        operations.followers_tag_add(tag=tag, followers=Follower.objects.filter(account=other))

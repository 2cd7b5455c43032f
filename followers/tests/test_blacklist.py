import pytest

from conftest import sample_json
from followers import tasks
from followers.models import Follower, FollowerOperation
from followers.services import operations
from followers.tests.factories import FollowerFactory, FollowerOperationFactory
from followers.tests.tagging import calls, followers
from sandbox.endpoints import tags as sandbox_tags
from sandbox.models import SandboxFollower
from sandbox.tests.factories import SandboxFaultFactory
from wechat.api.endpoints import Endpoint
from wechat.gateway import client_for
from wechat.models import SyncStatus

pytestmark = pytest.mark.django_db


def test_pull_pages_by_next_openid_without_assuming_a_page_size(account, sandbox_app, monkeypatch):
    monkeypatch.setattr(sandbox_tags, "BLACKLIST_PAGE_SIZE", 7)
    people = followers(account, sandbox_app, 20)
    SandboxFollower.objects.filter(openid__in=[f.openid for f in people[:16]]).update(blacklisted=True)
    Follower.objects.filter(pk=people[19].pk).update(blacklisted=True)  # un-blacklisted in the console since
    assert operations.blacklist_pull(account=account) == 16
    assert set(Follower.objects.filter(blacklisted=True).values_list("openid", flat=True)) == {f.openid for f in people[:16]}
    pages = calls(Endpoint.BLACKLIST_GET.path)
    assert [p.request_json.get("begin_openid", "") if p.request_json else "" for p in pages] == [
        "",
        people[6].openid,
        people[13].openid,
        people[15].openid,
    ]


def test_getblacklist_has_the_shape_of_wechats_sample(account, sandbox_app):
    people = followers(account, sandbox_app, 2)
    SandboxFollower.objects.filter(openid=people[0].openid).update(blacklisted=True)
    body = client_for(account).tag.get_black_list()
    sample = sample_json("api/tags_members_getblacklist_response.json")
    assert body.keys() == sample.keys() and body["data"].keys() == sample["data"].keys()


def test_blacklisting_45_followers_takes_three_calls_of_at_most_20(account, sandbox_app, django_capture_on_commit_callbacks):
    followers(account, sandbox_app, 45)
    with django_capture_on_commit_callbacks(execute=True):
        queued = operations.followers_blacklist(followers=Follower.objects.all())
    assert queued.operations == 3
    assert [len(c.request_json["openid_list"]) for c in calls(Endpoint.BLACKLIST_ADD.path)] == [20, 20, 5]
    assert SandboxFollower.objects.filter(blacklisted=True).count() == 45
    assert Follower.objects.filter(blacklisted=True).count() == 45


def test_removing_from_the_blacklist(account, sandbox_app, django_capture_on_commit_callbacks):
    people = followers(account, sandbox_app, 3, blacklisted=True)
    SandboxFollower.objects.update(blacklisted=True)
    with django_capture_on_commit_callbacks(execute=True):
        operations.followers_blacklist(followers=Follower.objects.filter(pk=people[0].pk), add=False)
    assert list(SandboxFollower.objects.filter(blacklisted=False).values_list("openid", flat=True)) == [people[0].openid]
    assert not Follower.objects.get(pk=people[0].pk).blacklisted
    assert Follower.objects.filter(blacklisted=True).count() == 2


def test_wechat_answers_40032_for_a_list_over_20(account, sandbox_app):
    openids = [f.openid for f in followers(account, sandbox_app, 21)]
    operation = FollowerOperationFactory(account=account, kind="blacklist", openids=openids)
    tasks.follower_operation_run.delay(operation.pk)
    operation.refresh_from_db()
    assert operation.sync_status == SyncStatus.FAILED and operation.last_error.startswith("40032")
    assert not Follower.objects.filter(blacklisted=True).exists()


def test_wechat_answers_40003_for_an_unknown_openid(account, sandbox_app, django_capture_on_commit_callbacks):
    followers(account, sandbox_app, 2)
    FollowerFactory(account=account, openid="oNotOnWeChat")
    with django_capture_on_commit_callbacks(execute=True):
        operations.followers_blacklist(followers=Follower.objects.all())
    operation = FollowerOperation.objects.get()
    assert operation.sync_status == SyncStatus.FAILED and operation.last_error.startswith("40003")
    assert not Follower.objects.filter(blacklisted=True).exists()


def test_a_daily_quota_error_is_recorded_not_retried(account, sandbox_app, django_capture_on_commit_callbacks):
    followers(account, sandbox_app, 2)
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.BLACKLIST_ADD.path, kind="errcode", value=45009)
    with django_capture_on_commit_callbacks(execute=True):
        operations.followers_blacklist(followers=Follower.objects.all())
    assert FollowerOperation.objects.get().last_error.startswith("45009")
    assert len(calls(Endpoint.BLACKLIST_ADD.path, errcode=45009)) == 1


def test_the_nightly_pull_covers_every_account(account, sandbox_app):
    people = followers(account, sandbox_app, 3)
    SandboxFollower.objects.filter(openid=people[2].openid).update(blacklisted=True)
    tasks.blacklists_pull_nightly.delay()
    assert list(Follower.objects.filter(blacklisted=True).values_list("openid", flat=True)) == [people[2].openid]

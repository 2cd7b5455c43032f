import pytest
from django.core.exceptions import ValidationError

from followers import tasks
from followers.models import Follower, FollowerOperation
from followers.services import operations
from followers.tests.factories import FollowerOperationFactory
from followers.tests.tagging import allow_eager_retries, calls, followers
from sandbox.models import SandboxApp, SandboxFollower
from sandbox.tests.factories import SandboxFaultFactory
from wechat.api.endpoints import Endpoint
from wechat.models import SyncStatus

pytestmark = pytest.mark.django_db


def test_a_remark_is_saved_locally_and_sent_to_wechat(account, sandbox_app, django_capture_on_commit_callbacks):
    follower = followers(account, sandbox_app, 1)[0]
    with django_capture_on_commit_callbacks(execute=True):
        operations.follower_remark_set(follower=follower, remark="张三（VIP）")
    assert Follower.objects.get(pk=follower.pk).remark == "张三（VIP）"
    assert SandboxFollower.objects.get(openid=follower.openid).remark == "张三（VIP）"
    assert calls(Endpoint.USER_REMARK.path)[0].request_json == {"openid": follower.openid, "remark": "张三（VIP）"}
    assert FollowerOperation.objects.get().sync_status == SyncStatus.SYNCED


def test_a_remark_of_30_characters_is_refused_and_changes_nothing(account, sandbox_app):
    follower = followers(account, sandbox_app, 1, remark="旧")[0]
    with pytest.raises(ValidationError, match="30"):
        operations.follower_remark_set(follower=follower, remark="备" * 30)
    assert Follower.objects.get(pk=follower.pk).remark == "旧"
    assert not FollowerOperation.objects.exists()


def test_wechat_refuses_a_remark_of_30_characters_that_reaches_it(account, sandbox_app):
    follower = followers(account, sandbox_app, 1)[0]
    operation = FollowerOperationFactory(account=account, kind="remark", openids=[follower.openid], remark="备" * 30)
    tasks.follower_operation_run.delay(operation.pk)
    operation.refresh_from_db()
    assert operation.sync_status == SyncStatus.FAILED and operation.last_error.startswith("45002")
    assert SandboxFollower.objects.get(openid=follower.openid).remark == ""


def test_an_unchanged_remark_sends_nothing(account, sandbox_app):
    follower = followers(account, sandbox_app, 1, remark="张三")[0]
    assert operations.follower_remark_set(follower=follower, remark=" 张三 ") is None
    assert not FollowerOperation.objects.exists()


def test_an_unsubscribed_follower_cannot_get_a_remark(account, sandbox_app):
    follower = followers(account, sandbox_app, 1, subscribed=False)[0]
    with pytest.raises(ValidationError, match="40003"):
        operations.follower_remark_set(follower=follower, remark="张三")
    assert Follower.objects.get(pk=follower.pk).remark == ""


def test_an_account_without_the_api_records_48001(account, sandbox_app, django_capture_on_commit_callbacks):
    SandboxApp.objects.filter(pk=sandbox_app.pk).update(verified=False)
    follower = followers(account, sandbox_app, 1)[0]
    with django_capture_on_commit_callbacks(execute=True):
        operations.follower_remark_set(follower=follower, remark="张三")
    operation = FollowerOperation.objects.get()
    assert operation.sync_status == SyncStatus.FAILED and operation.last_error.startswith("48001")
    assert "未授权" in operation.last_error


def test_a_busy_wechat_is_retried(account, sandbox_app, django_capture_on_commit_callbacks, monkeypatch):
    allow_eager_retries(monkeypatch)
    follower = followers(account, sandbox_app, 1)[0]
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.USER_REMARK.path, kind="errcode", value=-1, remaining=2)
    with django_capture_on_commit_callbacks(execute=True):
        operations.follower_remark_set(follower=follower, remark="张三")
    assert FollowerOperation.objects.get().sync_status == SyncStatus.SYNCED
    assert SandboxFollower.objects.get(openid=follower.openid).remark == "张三"

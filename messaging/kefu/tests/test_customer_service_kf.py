"""kf accounts (客服帐号): local saves synced to the sandbox WeChat through Celery, with WeChat's errors."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from messaging.kefu import services as customer_service
from messaging.kefu.models import KfAccount
from sandbox.endpoints.kf import kf_invite_answer
from sandbox.models import SandboxCall, SandboxKfAccount
from sandbox.tests.factories import SandboxFaultFactory, SandboxKfAccountFactory
from wechat.models import SyncStatus

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def kf_create(account, name="kefu1", nickname="小微", **fields):
    kf = KfAccount(account=account, kf_account=f"{name}@gh_7f083739789a", nickname=nickname, **fields)
    return customer_service.kf_account_save(kf=kf, avatar_changed=bool(kf.avatar), invite_changed=bool(kf.invite_wx))


@pytest.fixture
def worker_retries(monkeypatch):
    """Let eager tasks retry as a worker would (Celery re-applies a retried eager task when errors do not propagate)."""
    from wxsite.celery import app

    monkeypatch.setitem(app.conf, "task_eager_propagates", False)


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_saved_kf_account_is_created_at_wechat_by_the_sync_task(account, sandbox_app, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        kf = kf_create(account)
    kf.refresh_from_db()
    remote = SandboxKfAccount.objects.get(app=sandbox_app, kf_account=kf.kf_account)
    assert remote.nickname == "小微"
    assert kf.sync_status == SyncStatus.SYNCED and kf.exists_at_wechat
    assert kf.kf_id == remote.kf_id == "1001"
    assert kf.last_error == ""


def test_nickname_change_is_pushed_with_update(account, sandbox_app, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        kf = kf_create(account)
    kf.refresh_from_db()
    kf.nickname = "售后"
    with django_capture_on_commit_callbacks(execute=True):
        customer_service.kf_account_save(kf=kf)
    assert SandboxKfAccount.objects.get(app=sandbox_app).nickname == "售后"
    assert SandboxCall.objects.filter(api="customservice/kfaccount/update").count() == 1


def test_sync_is_idempotent_when_the_account_already_exists_at_wechat(account, sandbox_app, django_capture_on_commit_callbacks):
    # An earlier add went through but its answer was lost: WeChat now says 65406, which counts as done.
    SandboxKfAccountFactory(app=sandbox_app, kf_account="kefu1@gh_7f083739789a", kf_id="1001", nickname="旧名")
    with django_capture_on_commit_callbacks(execute=True):
        kf = kf_create(account, nickname="新名")
    kf.refresh_from_db()
    assert kf.sync_status == SyncStatus.SYNCED
    assert SandboxCall.objects.filter(api="customservice/kfaccount/add", errcode=65406).count() == 1
    assert SandboxKfAccount.objects.get(app=sandbox_app).nickname == "新名"
    # A second run of the task on a synced row does nothing.
    assert customer_service.kf_account_sync(kf_account_id=kf.pk) is None


def test_illegal_kf_account_is_a_permanent_error_shown_on_the_row(account, sandbox_app, django_capture_on_commit_callbacks):
    kf = KfAccount(account=account, kf_account="much_too_long_prefix@gh_7f083739789a", nickname="x")
    with django_capture_on_commit_callbacks(execute=True):
        customer_service.kf_account_save(kf=kf)
    kf.refresh_from_db()
    assert kf.sync_status == SyncStatus.FAILED
    assert kf.last_error.startswith("65404: ")
    assert "客服帐号不合法" in kf.last_error and "Illegal kf account" in kf.last_error
    assert not SandboxKfAccount.objects.exists()


def test_blank_nickname_gives_65403(account, sandbox_app, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        kf = kf_create(account, nickname="   ")  # the admin form refuses it; the service trusts its caller
    kf.refresh_from_db()
    assert kf.sync_status == SyncStatus.FAILED and kf.last_error.startswith("65403: ")
    assert not SandboxKfAccount.objects.exists()


def test_the_101st_kf_account_is_refused_with_65405(account, sandbox_app, django_capture_on_commit_callbacks):
    SandboxKfAccount.objects.bulk_create(
        SandboxKfAccount(app=sandbox_app, kf_account=f"k{i}@gh_7f083739789a", kf_id=str(1001 + i), nickname=f"k{i}")
        for i in range(100)
    )
    with django_capture_on_commit_callbacks(execute=True):
        kf = kf_create(account, name="extra")
    kf.refresh_from_db()
    assert kf.sync_status == SyncStatus.FAILED and kf.last_error.startswith("65405: ")


def test_busy_wechat_is_retried_until_synced(account, sandbox_app, worker_retries, django_capture_on_commit_callbacks):
    SandboxFaultFactory(app=sandbox_app, api="customservice/kfaccount/add", kind="errcode", value=-1, remaining=2)
    with django_capture_on_commit_callbacks(execute=True):
        kf = kf_create(account)
    kf.refresh_from_db()
    assert kf.sync_status == SyncStatus.SYNCED
    assert SandboxCall.objects.filter(api="customservice/kfaccount/add").count() == 3
    assert SandboxKfAccount.objects.filter(app=sandbox_app).count() == 1


def test_add_timing_out_after_taking_effect_is_retried_without_a_duplicate(
    account, sandbox_app, worker_retries, django_capture_on_commit_callbacks
):
    SandboxFaultFactory(app=sandbox_app, api="customservice/kfaccount/add", kind="timeout_after", remaining=1)
    with django_capture_on_commit_callbacks(execute=True):
        kf = kf_create(account)
    kf.refresh_from_db()
    assert kf.sync_status == SyncStatus.SYNCED
    assert SandboxKfAccount.objects.filter(app=sandbox_app).count() == 1


def test_delete_removes_the_account_at_wechat_then_locally(account, sandbox_app, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        kf = kf_create(account)
    with django_capture_on_commit_callbacks(execute=True):
        customer_service.kf_account_delete_request(kf=kf)
    assert not KfAccount.objects.exists()
    assert not SandboxKfAccount.objects.exists()


def test_delete_of_an_account_already_gone_at_wechat_succeeds(account, sandbox_app, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        kf = kf_create(account)
    SandboxKfAccount.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        customer_service.kf_account_delete_request(kf=kf)
    assert not KfAccount.objects.exists()
    assert SandboxCall.objects.filter(api="customservice/kfaccount/del", errcode=65401).count() == 1


def test_avatar_is_uploaded_as_multipart(account, sandbox_app, media_root, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        kf = kf_create(account, avatar=SimpleUploadedFile("a.jpg", JPEG, content_type="image/jpeg"))
    kf.refresh_from_db()
    remote = SandboxKfAccount.objects.get(app=sandbox_app)
    assert bytes(remote.headimg) == JPEG
    assert kf.headimg_url == remote.headimgurl and kf.headimg_url.startswith("https://")
    assert not kf.avatar_pending and kf.sync_status == SyncStatus.SYNCED


def test_non_jpeg_avatar_is_refused_with_40005(account, sandbox_app, media_root, django_capture_on_commit_callbacks):
    png = SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n0000", content_type="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        kf = kf_create(account, avatar=png)
    kf.refresh_from_db()
    assert kf.sync_status == SyncStatus.FAILED and kf.last_error.startswith("40005: ")
    assert kf.avatar_pending


def test_invitation_is_sent_and_its_state_pulled(account, sandbox_app, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        kf = kf_create(account, invite_wx="worker_wx1")
    kf.refresh_from_db()
    assert kf.invite_status == KfAccount.InviteStatus.WAITING and kf.invite_expire_time is not None
    assert not kf.invite_pending
    kf_invite_answer(sandbox_app, kf.kf_account, accept=True)
    customer_service.kf_accounts_pull(account=account)
    kf.refresh_from_db()
    assert kf.kf_wx == "worker_wx1" and kf.invite_status == ""


def test_inviting_a_wechat_user_who_is_already_a_worker_gives_65407(account, sandbox_app, django_capture_on_commit_callbacks):
    SandboxKfAccountFactory(app=sandbox_app, kf_account="a@gh_7f083739789a", kf_id="1001", nickname="a", kf_wx="worker_wx1")
    with django_capture_on_commit_callbacks(execute=True):
        kf = kf_create(account, name="b", invite_wx="worker_wx1")
    kf.refresh_from_db()
    assert kf.sync_status == SyncStatus.FAILED and kf.last_error.startswith("65407: ")
    assert kf.exists_at_wechat and kf.invite_pending


def test_pull_creates_updates_and_drops_rows(account, sandbox_app, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        gone = kf_create(account, name="gone")
        kept = kf_create(account, name="kept")
    SandboxKfAccount.objects.filter(kf_account=gone.kf_account).delete()
    SandboxKfAccount.objects.filter(kf_account=kept.kf_account).update(nickname="改名", online_status=1, accepted_case=3)
    SandboxKfAccountFactory(app=sandbox_app, kf_account="console@gh_7f083739789a", kf_id="2001", nickname="后台")
    assert customer_service.kf_accounts_pull(account=account) == 2
    names = dict(KfAccount.objects.values_list("kf_account", "nickname"))
    assert names == {"kept@gh_7f083739789a": "改名", "console@gh_7f083739789a": "后台"}
    kept.refresh_from_db()
    assert kept.online_status == 1 and kept.accepted_case == 3


def test_seeder_creates_one_kf_account_for_the_sandbox_account(account, sandbox_app):
    from sandbox.seeders.kefu import sandbox_seed_kf_account
    from sandbox.seeding import SEEDERS

    assert sandbox_seed_kf_account in SEEDERS
    sandbox_seed_kf_account(account=account, app=sandbox_app)
    sandbox_seed_kf_account(account=account, app=sandbox_app)
    kf = KfAccount.objects.get(account=account)
    assert kf.sync_status == SyncStatus.SYNCED
    assert SandboxKfAccount.objects.filter(app=sandbox_app, kf_account=kf.kf_account).count() == 1


def test_unverified_account_gets_48001(make_account, django_capture_on_commit_callbacks):
    account = make_account(verified=False, account_type="subscription")
    with django_capture_on_commit_callbacks(execute=True):
        kf = kf_create(account)
    kf.refresh_from_db()
    assert kf.sync_status == SyncStatus.FAILED and kf.last_error.startswith("48001: ")
    assert not kf.exists_at_wechat

"""Admin: "Sync followers now" on official accounts, and the sync job list with progress and errors."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from followers.models import Follower, SyncJob
from followers.tests.factories import SyncJobFactory
from sandbox.generator import followers_generate
from sandbox.tests.factories import SandboxFaultFactory
from wechat.api.endpoints import Endpoint


@pytest.fixture
def admin_client_en(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw-for-tests-1")
    client.force_login(user)
    return client


def en(name: str, *args) -> str:
    with translation.override("en"):
        return reverse(name, args=args)


def sync_now(client, account, capture):
    url = en("admin:accounts_officialaccount_changelist")
    with capture(execute=True):
        return client.post(url, {"action": "sync_followers_now", "_selected_action": [account.pk]}, follow=True)


def test_sync_followers_now_runs_a_job(admin_client_en, account, sandbox_app, django_capture_on_commit_callbacks):
    followers_generate(app=sandbox_app, n=120)

    response = sync_now(admin_client_en, account, django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert "follower sync started" in response.content.decode()
    job = SyncJob.objects.get()
    assert (job.status, job.done, job.created_by.username) == (SyncJob.Status.SUCCEEDED, 120, "root")
    assert Follower.objects.filter(account=account).count() == 120


def test_sync_followers_now_refuses_a_second_running_sync(admin_client_en, account, django_capture_on_commit_callbacks):
    running = SyncJobFactory(
        account=account, status=SyncJob.Status.RUNNING, total=5000, done=1200, lease_until=timezone.now() + timedelta(minutes=3)
    )

    response = sync_now(admin_client_en, account, django_capture_on_commit_callbacks)

    page = response.content.decode()
    assert "already queued or running" in page and "1200 / 5000" in page
    assert list(SyncJob.objects.all()) == [running]


def test_job_list_shows_progress_and_the_errcode_meaning(admin_client_en, account, sandbox_app):
    followers_generate(app=sandbox_app, n=10)
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.USER_GET.path, kind="errcode", value=45009)
    from followers.services.sync import follower_sync_all

    follower_sync_all(account=account)
    SyncJobFactory(account=account, status=SyncJob.Status.SUCCEEDED, total=400, done=100)

    page = admin_client_en.get(en("admin:followers_syncjob_changelist")).content.decode()

    assert "45009" in page and "Daily API quota reached" in page and "接口调用超过每日限额" in page
    assert "width:25%" in page  # 100 of 400


def test_job_detail_page_renders(admin_client_en, account):
    job = SyncJobFactory(account=account, status=SyncJob.Status.FAILED, errcode=48001, error="48001: ...")

    response = admin_client_en.get(en("admin:followers_syncjob_change", job.pk))

    assert response.status_code == 200
    assert "API unauthorised" in response.content.decode()


def test_operators_see_only_their_accounts_jobs(client, django_user_model, make_account):
    from django.contrib.auth.models import Permission

    mine, other = make_account(appid="wx00000000000000b1"), make_account(appid="wx00000000000000b2")
    operator = django_user_model.objects.create_user("op", password="pw-for-tests-1", is_staff=True)
    operator.user_permissions.add(Permission.objects.get(codename="view_syncjob"))
    mine.operators.add(operator)
    SyncJobFactory(account=mine, status=SyncJob.Status.SUCCEEDED)
    SyncJobFactory(account=other, status=SyncJob.Status.SUCCEEDED)
    client.force_login(operator)

    page = client.get(en("admin:followers_syncjob_changelist")).content.decode()

    assert mine.appid in page and other.appid not in page


def _form_fields(page) -> set[str]:
    return {field.field["name"] for fieldset in page.context_data["adminform"] for line in fieldset for field in line}


def test_a_running_jobs_page_shows_what_changes_in_its_live_panel_only(admin_client_en, account):
    job = SyncJobFactory(
        account=account, status=SyncJob.Status.RUNNING, total=5000, done=1200, page_token="oPage0001", page_offset=1200
    )

    page = admin_client_en.get(en("admin:followers_syncjob_change", job.pk))
    live = admin_client_en.get(en("admin:followers_syncjob_live", job.pk)).content.decode()

    names = _form_fields(page)
    assert {"account", "kind", "created_at"} <= names
    assert not names & {"status", "progress", "done", "page_token", "attempt", "finished_at", "lease_until"}
    html = page.content.decode()
    assert html.count("oPage0001") == 1  # once, in the panel
    assert "oPage0001" in live and "1200 of 5000" in live


def test_a_finished_jobs_page_shows_every_field(admin_client_en, account):
    job = SyncJobFactory(account=account, status=SyncJob.Status.SUCCEEDED, total=5000, done=5000, page_token="oPage0002")

    page = admin_client_en.get(en("admin:followers_syncjob_change", job.pk))

    assert {"status", "done", "page_token", "attempt", "lease_until"} <= _form_fields(page)
    assert page.content.decode().count("oPage0002") == 1  # in the form; the finished panel has no details

"""Full follower sync from the 粉丝 page: it opens the job, whose page follows the job by itself."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from django.utils import timezone, translation

from followers.models import Follower, SyncJob
from followers.tests.factories import SyncJobFactory
from sandbox.generator import followers_generate


@pytest.fixture
def root(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-for-tests-1"))
    return client


def en(name: str, *args) -> str:
    with translation.override("en"):
        return reverse(name, args=args)


def test_the_follower_list_offers_a_full_sync(root, account):
    page = root.get(en("admin:followers_follower_changelist")).content.decode()
    assert f'action="{reverse("admin:followers_follower_sync")}"' in page
    assert "Sync all followers" in page


def test_sync_from_the_follower_list_opens_the_job(root, account, sandbox_app, django_capture_on_commit_callbacks):
    followers_generate(app=sandbox_app, n=30)
    with django_capture_on_commit_callbacks(execute=True):
        response = root.post(en("admin:followers_follower_sync"), {"account": account.pk})
    job = SyncJob.objects.get()
    assert response.status_code == 302 and response.url == en("admin:followers_syncjob_change", job.pk)
    assert (job.status, job.done) == (SyncJob.Status.SUCCEEDED, 30)
    assert Follower.objects.filter(account=account).count() == 30
    page = root.get(response.url).content.decode()
    assert 'id="sync-job-live"' in page and 'data-status="succeeded"' in page
    assert f'class="sync-job-link" href="{reverse("admin:followers_syncjob_change", args=[job.pk])}"' in page


def test_a_second_sync_opens_the_running_job_with_the_refusal(root, account):
    running = SyncJobFactory(
        account=account, status=SyncJob.Status.RUNNING, total=5000, done=1200, lease_until=timezone.now() + timedelta(minutes=3)
    )
    response = root.post(en("admin:followers_follower_sync"), {"account": account.pk}, follow=True)
    assert response.redirect_chain[-1][0] == en("admin:followers_syncjob_change", running.pk)
    assert "already queued or running" in response.content.decode()
    assert list(SyncJob.objects.all()) == [running]


def test_the_job_page_polls_while_the_job_runs_and_stops_when_it_ends(root, account):
    job = SyncJobFactory(account=account, status=SyncJob.Status.RUNNING, total=5000, done=1200)
    live = en("admin:followers_syncjob_live", job.pk)
    page = root.get(en("admin:followers_syncjob_change", job.pk)).content.decode()
    assert f'hx-get="{live}" hx-trigger="every 2s"' in page
    assert "1200 of 5000" in root.get(live).content.decode()

    SyncJob.objects.filter(pk=job.pk).update(status=SyncJob.Status.SUCCEEDED, done=5000, finished_at=timezone.now())
    finished = root.get(live).content.decode()
    assert 'data-status="succeeded"' in finished and "5000 of 5000" in finished
    assert "hx-trigger" not in finished


def test_the_job_progress_is_refused_for_another_accounts_job(client, account, make_account):
    user = User.objects.create_user("op", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_syncjob", "view_follower"]))
    make_account(appid="wx00000000000000aa").operators.add(user)
    job = SyncJobFactory(account=account, status=SyncJob.Status.RUNNING)
    client.force_login(user)
    assert client.get(en("admin:followers_syncjob_live", job.pk)).status_code == 404
    response = client.post(en("admin:followers_follower_sync"), {"account": account.pk})
    assert response.url == en("admin:followers_follower_changelist")
    assert SyncJob.objects.count() == 1


def test_the_job_list_polls_while_a_job_is_active(root, account):
    url = en("admin:followers_syncjob_changelist")
    job = SyncJobFactory(account=account, status=SyncJob.Status.RUNNING, total=10, done=2)
    assert 'hx-select-oob="#live-results"' in root.get(url).content.decode()
    SyncJob.objects.filter(pk=job.pk).update(status=SyncJob.Status.SUCCEEDED)
    poll = re.search(r'<div id="live-poll"[^>]*>', root.get(url).content.decode()).group(0)
    assert "hx-trigger" not in poll

"""A sync job's page in headless Chromium follows the job to its end without a reload."""

from django.contrib.auth.models import User
from django.utils import timezone

from conftest import SCREENSHOTS, browser_test
from followers.models import SyncJob
from followers.tests.factories import SyncJobFactory

pytestmark = browser_test


def test_the_job_page_updates_itself(live_server, transactional_db, make_account, browser_page):
    account = make_account()
    job = SyncJobFactory(account=account, status=SyncJob.Status.RUNNING, total=5000, done=1200, attempt=1)
    User.objects.create_superuser("boss", "boss@example.com", "pw-for-test-1")
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/en/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-for-test-1")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/en/admin/followers/syncjob/{job.pk}/change/")
    assert "1200 of 5000" in page.inner_text("#sync-job-live")
    # What the job changes is in the panel only: no row of the form keeps the value of the moment the page opened.
    form = " ".join(page.locator("#syncjob_form fieldset").all_inner_texts())
    assert "Account" in form and "Done" not in form and "Attempt" not in form
    page.evaluate("window.notReloaded = true")
    page.screenshot(path=str(SCREENSHOTS / "sync_job_running_en.png"), full_page=True)

    SyncJob.objects.filter(pk=job.pk).update(done=3400, page_token="oNext0001", page_offset=2000)
    page.wait_for_function("document.querySelector('#sync-job-live').innerText.includes('3400 of 5000')")
    SyncJob.objects.filter(pk=job.pk).update(status=SyncJob.Status.SUCCEEDED, done=5000, finished_at=timezone.now())
    page.wait_for_selector("#sync-job-live[data-status='succeeded']")
    assert page.evaluate("window.notReloaded") is True
    live = page.inner_text("#sync-job-live")
    assert "5000 of 5000" in live and "oNext0001" in live and "2000" in live
    assert "24%" not in page.inner_text("body") and "running" not in page.inner_text("#syncjob_form")
    assert "Attempt" in live
    page.screenshot(path=str(SCREENSHOTS / "sync_job_finished_en.png"), full_page=True)

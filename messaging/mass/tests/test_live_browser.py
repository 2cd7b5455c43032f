"""In headless Chromium, an open mass send follows WeChat's report (MASSSENDJOBFINISH) without a reload."""

from django.contrib.auth.models import User
from django.utils import timezone

from conftest import SCREENSHOTS, browser_test
from messaging.mass.models import MassBatch, MassMessage

from .factories import MassBatchFactory, MassMessageFactory

pytestmark = browser_test


def test_a_sending_mass_message_page_updates_itself(live_server, transactional_db, make_account, browser_page):
    account = make_account()
    message = MassMessageFactory(account=account, title="双十一活动", status=MassMessage.Status.SENDING)
    batch = MassBatchFactory(message=message, status=MassBatch.Status.SUBMITTED, recipients=2, msg_id="1000001625")
    User.objects.create_superuser("boss", "boss@example.com", "pw-for-test-1")
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/en/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-for-test-1")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/en/admin/mass/massmessage/{message.pk}/change/")
    assert "Sending" in page.inner_text("#live-fields")
    page.evaluate("window.notReloaded = true")

    MassBatch.objects.filter(pk=batch.pk).update(
        status=MassBatch.Status.FINISHED, total_count=2, filter_count=2, sent_count=2, error_count=0, finished_at=timezone.now()
    )
    MassMessage.objects.filter(pk=message.pk).update(status=MassMessage.Status.SENT)
    page.wait_for_function("document.querySelector('#live-fields').innerText.includes('Sent')")
    page.wait_for_selector("#live-poll:not([hx-trigger])", state="attached")
    assert page.locator("#mass-sending-note").count() == 0
    assert page.evaluate("window.notReloaded") is True
    page.screenshot(path=str(SCREENSHOTS / "mass_live_sent_en.png"), full_page=True)

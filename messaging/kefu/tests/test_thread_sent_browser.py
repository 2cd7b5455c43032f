"""The thread with template messages and mass sends, in headless Chromium."""

import pytest
from django.urls import reverse

from conftest import SCREENSHOTS, browser_test

from .test_thread_sent import OPENID, sent  # noqa: F401  (the fixture)

pytestmark = browser_test


@pytest.mark.usefixtures("sent")
def test_the_thread_shows_sent_items_in_a_browser(live_server, transactional_db, account, browser_page, django_user_model):
    django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-for-test-1")
    page = browser_page
    page.goto(f"{live_server.url}/en/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-for-test-1")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}{reverse('admin:kefu_conversation_thread', args=[account.pk, OPENID])}")
    sent_items = page.locator("[data-sent]")
    assert sent_items.count() == 6
    assert sent_items.first.is_visible() and "商品名称：巧克力" in sent_items.first.inner_text()
    assert "45028" in page.locator('[data-sent="mass"][data-status="failed"]').inner_text()
    page.screenshot(path=str(SCREENSHOTS / "kefu_thread_sent.png"), full_page=True)

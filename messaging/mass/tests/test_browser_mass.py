"""An operator composes a text mass send to a tag, previews it, schedules it, and sees it sent with its figures."""

from datetime import timedelta

from django.utils import timezone

from conftest import SCREENSHOTS, browser_test

pytestmark = browser_test


def test_compose_preview_schedule_and_see_the_send_in_the_admin(live_server, transactional_db, make_account, browser_page):
    from django.db import connections

    try:
        _flow(live_server, make_account(), browser_page)
    finally:
        connections.close_all()


def _flow(live_server, account, page):
    from django.contrib.auth.models import User

    from messaging.mass import services as mass
    from messaging.mass.models import MassMessage
    from messaging.mass.tests.test_mass import make_followers, make_tag
    from sandbox.models import SandboxApp, SandboxDelivery

    app = SandboxApp.objects.get(appid=account.appid)
    tag = make_tag(account, wechat_id=120, name="会员 VIP")
    ids = make_followers(account, app, 3, tag=tag)
    User.objects.create_superuser("massop", password="pw-browser-mass-1")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url + "/en/admin/"

    page.goto(base + "login/")
    page.fill("#id_username", "massop")
    page.fill("#id_password", "pw-browser-mass-1")
    page.click("input[type=submit]")

    page.goto(base + "mass/massmessage/add/")
    page.select_option("#id_account", str(account.pk))
    page.fill("#id_title", "Member news")
    page.select_option("#id_msgtype", "text")
    page.fill("#id_content", "会员专享：本周五新品上市")
    page.select_option("#id_audience", "tag")
    page.click(".field-tag .select2-selection")
    page.keyboard.type("VIP")
    page.click(".select2-results__option:has-text('会员 VIP')")
    page.screenshot(path=str(SCREENSHOTS / "mass_compose.png"), full_page=True)
    page.click("input[name=_continue]")
    page.wait_for_selector("#mass-send")
    message = MassMessage.objects.get()

    page.click("#mass-preview")
    page.click("#mass-preview-form .select2-selection")
    page.keyboard.type(ids[0])
    page.click(f".select2-results__option:has-text('{ids[0]}')")
    page.click("#mass-preview-submit")
    page.wait_for_selector("text=Preview sent to")
    assert SandboxDelivery.objects.filter(channel="preview", openid=ids[0]).exists()

    page.goto(base + f"mass/massmessage/{message.pk}/change/")
    page.click("#mass-send")
    assert page.inner_text("#mass-audience-size") == "3"
    at = timezone.localtime(timezone.now() + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M")
    page.check("#when-later")
    page.fill("#id_scheduled_at", at)
    page.screenshot(path=str(SCREENSHOTS / "mass_confirm.png"), full_page=True)
    page.click("#mass-confirm-submit")
    page.wait_for_selector("text=Scheduled for")
    message.refresh_from_db()
    assert message.status == "scheduled"
    assert not SandboxDelivery.objects.filter(channel="mass").exists()

    # Two minutes later, the beat tick (run here in-process) sends it; the job-finish push comes back too.
    MassMessage.objects.filter(pk=message.pk).update(scheduled_at=timezone.now() - timedelta(seconds=1))
    assert mass.mass_dispatch_due()["started"] == 1
    message.refresh_from_db()
    assert message.status == "sent"
    assert SandboxDelivery.objects.filter(channel="mass").count() == 3

    page.goto(base + f"mass/massmessage/{message.pk}/change/")
    page.wait_for_selector("text=3 / 3 / 0")
    page.screenshot(path=str(SCREENSHOTS / "mass_sent_detail.png"), full_page=True)
    page.goto(base + "mass/massmessage/")
    page.wait_for_selector("text=100%")
    page.screenshot(path=str(SCREENSHOTS / "mass_list.png"), full_page=True)

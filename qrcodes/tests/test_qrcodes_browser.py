"""In headless Chromium: create a QR code, download its PNG and decode it to WeChat's url, scan it in the simulator,
and see the follower tagged by the code's action."""

import io

from conftest import SCREENSHOTS, browser_test
from followers.tests.factories import TagFactory
from sandbox.tests.factories import SandboxTagFactory

pytestmark = browser_test

PASSWORD = "pw-browser-qr-1"


def test_create_a_code_download_decode_scan_and_see_the_follower_tagged(
    live_server, transactional_db, make_account, browser_page, django_user_model
):
    from django.db import connections

    try:
        _flow(live_server, browser_page, make_account, django_user_model)
    finally:
        # Playwright's sync API runs this test in a greenlet with its own database connection: close it.
        connections.close_all()


def _flow(live_server, page, make_account, django_user_model):
    import zxingcpp
    from PIL import Image

    from followers.models import Follower
    from qrcodes.models import QRScan, QRScene
    from sandbox.models import SandboxApp, SandboxFollower
    from sandbox.simulator import DEFAULT_OPENID
    from wechat.models import SyncStatus

    account = make_account()
    SandboxTagFactory(app=SandboxApp.objects.get(appid=account.appid), tagid=100, name="门店顾客")
    tag = TagFactory(account=account, name="门店顾客", wechat_id=100, sync_status=SyncStatus.SYNCED)
    django_user_model.objects.create_superuser("boss", "boss@example.com", PASSWORD)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{live_server.url}/en/admin/login/?next=/en/admin/qrcodes/qrscene/add/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#id_name")
    page.select_option("#id_account", str(account.pk))
    page.fill("#id_name", "门店 A 收银台")
    page.select_option("#id_kind", "temporary")
    page.fill("#id_scene_str", "store_a")
    page.fill("#id_expire_seconds", "86400")
    page.select_option("#id_tags_from", label=str(tag))
    page.click("#id_tags_add")
    page.screenshot(path=str(SCREENSHOTS / "qr_scene_add_en.png"), full_page=True)
    page.click("input[name=_continue]")
    page.wait_for_selector("#qr-png")
    scene = QRScene.objects.get()
    assert scene.sync_status == SyncStatus.SYNCED and scene.url
    page.screenshot(path=str(SCREENSHOTS / "qr_scene_change_en.png"), full_page=True)

    with page.expect_download() as download:
        page.click("#qr-download")
    assert download.value.suggested_filename == "qrcode-store_a.png"
    png = Image.open(io.BytesIO(open(download.value.path(), "rb").read()))
    assert zxingcpp.read_barcodes(png)[0].text == scene.url

    page.goto(f"{live_server.url}/sandbox/simulator/?appid={account.appid}")
    page.wait_for_selector(".qr-scene[data-scene='store_a'] button")
    page.screenshot(path=str(SCREENSHOTS / "qr_simulator_list.png"), full_page=True)
    page.click(".qr-scene[data-scene='store_a'] button")
    page.wait_for_selector(".bubble.event")
    assert "subscribe qrscene_store_a" in page.inner_text("#chat")
    page.click(".qr-scene[data-scene='store_a'] button")  # now a follower: SCAN
    page.wait_for_function("document.querySelector('#chat').innerText.includes('SCAN store_a')")
    page.screenshot(path=str(SCREENSHOTS / "qr_simulator_scanned.png"), full_page=True)

    follower = Follower.objects.get(account=account, openid=DEFAULT_OPENID)
    assert list(follower.tags.all()) == [tag]
    assert SandboxFollower.objects.get(openid=DEFAULT_OPENID).tagids == [100]
    assert list(QRScan.objects.order_by("id").values_list("kind", "tags_added")) == [("subscribe", ["门店顾客"]), ("scan", [])]

    page.goto(f"{live_server.url}/en/admin/followers/follower/{follower.pk}/change/")
    text = page.inner_text("#content")
    assert "门店顾客" in text and "store_a" in text
    page.screenshot(path=str(SCREENSHOTS / "qr_follower_tagged_en.png"), full_page=True)

    page.goto(f"{live_server.url}/en/admin/qrcodes/qrscene/{scene.pk}/change/")
    assert page.inner_text("#qr-totals") == "new followers: 1 · existing followers: 1 · people: 1"
    page.goto(f"{live_server.url}/admin/qrcodes/qrscene/{scene.pk}/change/")
    page.screenshot(path=str(SCREENSHOTS / "qr_scene_scans_zh.png"), full_page=True)


def test_a_channel_campaign_is_made_shown_and_exported(
    live_server, transactional_db, make_account, browser_page, django_user_model
):
    from django.db import connections

    try:
        _campaign_flow(live_server, browser_page, make_account, django_user_model)
    finally:
        connections.close_all()


def _campaign_flow(live_server, page, make_account, django_user_model):
    import zipfile

    from qrcodes.models import QRCampaign
    from sandbox import phone
    from sandbox.models import SandboxApp, SandboxQRCode

    account = make_account()
    django_user_model.objects.create_superuser("boss", "boss@example.com", PASSWORD)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/qrcodes/qrcampaign/add/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#id_name")
    page.select_option("#id_account", str(account.pk))
    page.fill("#id_name", "春季推广")
    page.fill("#id_name_pattern", "春季 门店 {n}")
    page.fill("#id_scene_prefix", "spring_")
    page.select_option("#id_kind", "permanent")
    page.fill("#id_count", "4")
    page.click("input[name=_continue]")
    page.wait_for_selector("#qr-export")
    campaign = QRCampaign.objects.get()
    assert campaign.scenes.exclude(url="").count() == 4

    # Two followers scan spring_2: one follows through it, one already followed.
    app = SandboxApp.objects.get(appid=account.appid)
    code = SandboxQRCode.objects.get(scene="spring_2")
    phone.follower_sends(
        app, "oNewcomer", {"MsgType": "event", "Event": "subscribe", "EventKey": "qrscene_spring_2", "Ticket": code.ticket}
    )
    phone.follower_sends(app, "oRegular", {"MsgType": "event", "Event": "SCAN", "EventKey": "spring_2", "Ticket": code.ticket})
    page.reload()
    assert page.inner_text("#qr-totals") == "新关注粉丝: 1 · 已关注粉丝: 1 · 人数: 2"
    page.screenshot(path=str(SCREENSHOTS / "qr_campaign_zh.png"), full_page=True)

    with page.expect_download() as download:
        page.click("#qr-export")
    names = zipfile.ZipFile(download.value.path()).namelist()
    assert sorted(names) == ["codes.csv", "spring_1.png", "spring_2.png", "spring_3.png", "spring_4.png"]

"""The simulator lists the QR codes the account created and scans them as WeChat would."""

from datetime import timedelta

from django.utils import timezone

from sandbox.models import SandboxDelivery, SandboxFollower, SandboxQRCode
from wechat.api import qrcodes

SIMULATOR = "/sandbox/simulator/"
OPENID = "oSimulatorQr0000000000000001"


def sent_events():
    return [
        (d.payload["Event"], d.payload["EventKey"], d.payload["Ticket"]) for d in SandboxDelivery.objects.filter(channel="sent")
    ]


def test_codes_are_listed_and_a_scan_follows_first_then_reports_scan(admin_client, account, sandbox_app):
    code = qrcodes.qrcode_create(account=account, permanent=True, scene_str="store_7")
    page = admin_client.get(SIMULATOR, {"appid": account.appid, "openid": OPENID}).content.decode()
    assert 'data-scene="store_7"' in page and code.ticket in page

    for _ in range(2):
        response = admin_client.post(f"{SIMULATOR}scan/", {"appid": account.appid, "openid": OPENID, "ticket": code.ticket})
        assert response.status_code == 302

    assert sent_events() == [("subscribe", "qrscene_store_7", code.ticket), ("SCAN", "store_7", code.ticket)]
    # user/info will tell how this follower came: through the code's scene string.
    follower = SandboxFollower.objects.get(app=sandbox_app, openid=OPENID)
    assert (follower.subscribe_scene, follower.qr_scene, follower.qr_scene_str) == ("ADD_SCENE_QR_CODE", 0, "store_7")


def test_a_numeric_scene_is_reported_as_qr_scene(admin_client, account, sandbox_app):
    code = qrcodes.qrcode_create(account=account, permanent=False, scene_id=123, expire_seconds=60)
    admin_client.post(f"{SIMULATOR}scan/", {"appid": account.appid, "openid": OPENID, "ticket": code.ticket})
    follower = SandboxFollower.objects.get(app=sandbox_app, openid=OPENID)
    assert (follower.qr_scene, follower.qr_scene_str) == (123, "")


def test_an_expired_code_is_shown_disabled_and_a_scan_sends_nothing(admin_client, account):
    code = qrcodes.qrcode_create(account=account, permanent=False, scene_id=9, expire_seconds=60)
    SandboxQRCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    page = admin_client.get(SIMULATOR, {"appid": account.appid}).content.decode()
    assert 'class="qr-scene expired"' in page
    response = admin_client.post(
        f"{SIMULATOR}scan/", {"appid": account.appid, "openid": OPENID, "ticket": code.ticket}, follow=True
    )
    assert "该二维码已过期" in response.content.decode()  # the simulator speaks zh-hans by default
    assert not SandboxDelivery.objects.exists()


def test_a_follow_without_a_scene_is_not_a_qr_code_follow(admin_client, account, sandbox_app):
    admin_client.post(SIMULATOR + f"?appid={account.appid}&openid={OPENID}", {"action": "subscribe", "key": ""})
    assert SandboxFollower.objects.get(app=sandbox_app, openid=OPENID).subscribe_scene == "ADD_SCENE_OTHERS"


def test_another_accounts_codes_cannot_be_scanned(client, django_user_model, make_account, account):
    other = make_account(appid="wx00000000000000ff")
    code = qrcodes.qrcode_create(account=other, permanent=True, scene_id=1)
    user = django_user_model.objects.create_user("op", password="pw", is_staff=True)
    account.operators.add(user)
    client.force_login(user)
    response = client.post(f"{SIMULATOR}scan/", {"appid": other.appid, "openid": OPENID, "ticket": code.ticket})
    assert response.status_code == 404 and not SandboxDelivery.objects.exists()

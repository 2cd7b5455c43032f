"""The QR code admin: create with WeChat's limits explained, PNG, campaign ZIP, counts; only the operator's accounts."""

import csv
import io
import zipfile

import zxingcpp
from django.contrib.auth.models import Permission
from PIL import Image

from qrcodes.models import QRCampaign, QRScene
from sandbox.tests.factories import SandboxFaultFactory
from wechat.api.endpoints import Endpoint
from wechat.models import SyncStatus

from .factories import QRSceneFactory

ADD = "/en/admin/qrcodes/qrscene/add/"


def post_scene(admin_client, account, captured, **fields):
    data = {
        "account": account.pk,
        "name": "门店 A",
        "kind": "temporary",
        "scene_id": "",
        "scene_str": "",
        "expire_seconds": "3600",
    }
    with captured(execute=True):
        return admin_client.post(ADD, {**data, **fields})


def test_an_operator_creates_a_code_and_downloads_a_png_that_decodes_to_its_url(
    admin_client, account, django_capture_on_commit_callbacks
):
    response = post_scene(admin_client, account, django_capture_on_commit_callbacks, scene_id="77")
    assert response.status_code == 302
    scene = QRScene.objects.get()
    assert scene.sync_status == SyncStatus.SYNCED and scene.url

    page = admin_client.get(f"/en/admin/qrcodes/qrscene/{scene.pk}/change/").content.decode()
    assert "Download PNG" in page and "showqrcode?ticket=" in page and "<svg" in page
    png = admin_client.get(f"/en/admin/qrcodes/qrscene/{scene.pk}/png/?download=1")
    assert png["Content-Disposition"] == 'attachment; filename="qrcode-77.png"'
    assert zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))[0].text == scene.url


def test_a_scene_outside_the_limits_is_explained_on_the_form(admin_client, account, django_capture_on_commit_callbacks):
    response = post_scene(admin_client, account, django_capture_on_commit_callbacks, kind="permanent", scene_id="100001")
    assert response.status_code == 200
    assert "scene id must be between 1 and 100,000" in response.content.decode()
    response = post_scene(admin_client, account, django_capture_on_commit_callbacks, scene_id="1", expire_seconds="2592001")
    assert "1 to 2,592,000 seconds" in response.content.decode()
    assert not QRScene.objects.exists()


def test_wechats_refusal_shows_errcode_and_meaning(admin_client, account, sandbox_app, django_capture_on_commit_callbacks):
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.QRCODE_CREATE.path, kind="errcode", value=48001, remaining=1)
    post_scene(admin_client, account, django_capture_on_commit_callbacks, scene_id="5")
    page = admin_client.get("/en/admin/qrcodes/qrscene/").content.decode()
    scene = QRScene.objects.get()
    assert scene.sync_status == SyncStatus.FAILED
    assert f'title="{scene.last_error}"' in page and scene.last_error.startswith("48001: ")


def test_an_expired_code_is_shown_as_expired(admin_client, account):
    from datetime import timedelta

    from django.utils import timezone

    QRSceneFactory(account=account, kind="temporary", expire_seconds=60, expires_at=timezone.now() - timedelta(seconds=1))
    assert ">expired<" in admin_client.get("/en/admin/qrcodes/qrscene/").content.decode()


def test_a_campaign_makes_its_codes_and_exports_a_zip_of_pngs_and_a_csv(
    admin_client, account, django_capture_on_commit_callbacks
):
    data = {
        "account": account.pk,
        "name": "春季",
        "name_pattern": "门店 {n}",
        "scene_prefix": "spring_",
        "kind": "permanent",
        "count": "3",
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post("/en/admin/qrcodes/qrcampaign/add/", data).status_code == 302
    campaign = QRCampaign.objects.get()
    assert list(campaign.scenes.order_by("id").values_list("name", "scene_key")) == [
        ("门店 1", "spring_1"),
        ("门店 2", "spring_2"),
        ("门店 3", "spring_3"),
    ]
    response = admin_client.get(f"/en/admin/qrcodes/qrcampaign/{campaign.pk}/export/")
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == ["codes.csv", "spring_1.png", "spring_2.png", "spring_3.png"]
    rows = list(csv.DictReader(io.StringIO(archive.read("codes.csv").decode("utf-8-sig"))))
    first = campaign.scenes.get(scene_key="spring_1")
    assert rows[0]["name"] == "门店 1" and rows[0]["url"] == first.url and rows[0]["status"] == "synced"
    png = Image.open(io.BytesIO(archive.read("spring_1.png")))
    assert zxingcpp.read_barcodes(png)[0].text == first.url
    page = admin_client.get(f"/en/admin/qrcodes/qrcampaign/{campaign.pk}/change/").content.decode()
    assert "spring_3" in page and "<svg" in page


def test_operators_see_only_their_accounts_codes(client, django_user_model, make_account, account):
    other = make_account(appid="wx00000000000000ff")
    mine = QRSceneFactory(account=account, name="我的码")
    theirs = QRSceneFactory(account=other, name="别人的码")
    operator = django_user_model.objects.create_user("op", password=None, is_staff=True)
    operator.user_permissions.add(*Permission.objects.filter(content_type__app_label="qrcodes"))
    account.operators.add(operator)
    client.force_login(operator)
    listing = client.get("/en/admin/qrcodes/qrscene/").content.decode()
    assert "我的码" in listing and "别人的码" not in listing
    assert client.get(f"/en/admin/qrcodes/qrscene/{mine.pk}/png/").status_code == 200
    assert client.get(f"/en/admin/qrcodes/qrscene/{theirs.pk}/png/").status_code == 404
    assert client.get(f"/en/admin/qrcodes/qrscene/{theirs.pk}/change/").status_code == 302  # admin: "doesn't exist"

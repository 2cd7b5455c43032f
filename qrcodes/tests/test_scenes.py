"""Creating scenes: WeChat's limits checked before the call, the task stores ticket, url and expiry, PNGs decode."""

import io
from datetime import timedelta

import pytest
import zxingcpp
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from qrcodes.models import QRKind, QRScene
from qrcodes.services.scenes import qr_png, scene_create, scene_png, scene_renew
from qrcodes.tests.factories import QRSceneFactory
from sandbox.models import SandboxCall, SandboxQRCode
from sandbox.tests.factories import SandboxFaultFactory
from wechat.api.endpoints import Endpoint
from wechat.models import SyncStatus


def decode(png: bytes) -> str:
    return zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))[0].text


def test_a_temporary_code_is_created_on_wechat_with_its_expiry(account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        scene = scene_create(account=account, name="门店 1", scene_id=42, expire_seconds=3600)

    scene.refresh_from_db()
    assert scene.sync_status == SyncStatus.SYNCED and scene.scene_key == "42"
    remote = SandboxQRCode.objects.get()
    assert (scene.ticket, scene.url, remote.scene) == (remote.ticket, remote.url, "42")
    assert timedelta(seconds=3590) < scene.expires_at - timezone.now() <= timedelta(seconds=3600)
    assert decode(scene_png(scene=scene)) == scene.url


def test_a_permanent_string_scene_has_no_expiry(account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        scene = scene_create(account=account, name="海报", kind=QRKind.PERMANENT, scene_str="poster_a", expire_seconds=60)
    scene.refresh_from_db()
    assert (scene.expires_at, scene.expire_seconds, scene.is_expired()) == (None, None, False)
    assert SandboxCall.objects.get(api=Endpoint.QRCODE_CREATE.path).request_json == {
        "action_name": "QR_LIMIT_STR_SCENE",
        "action_info": {"scene": {"scene_str": "poster_a"}},
    }


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": QRKind.TEMPORARY, "scene_id": 1, "expire_seconds": 2_592_001}, "expire_seconds"),
        ({"kind": QRKind.TEMPORARY, "scene_id": 1, "expire_seconds": 0}, "expire_seconds"),
        ({"kind": QRKind.TEMPORARY, "scene_id": 2**32, "expire_seconds": 60}, "scene_id"),
        ({"kind": QRKind.PERMANENT, "scene_id": 100_001}, "scene_id"),
        ({"kind": QRKind.PERMANENT, "scene_id": 0}, "scene_id"),
        ({"kind": QRKind.PERMANENT, "scene_str": "s" * 65}, "scene_str"),
        ({"kind": QRKind.PERMANENT, "scene_id": 3, "scene_str": "both"}, "scene_id"),
        ({"kind": QRKind.PERMANENT}, "scene_id"),
    ],
)
def test_limits_are_refused_with_the_field_and_nothing_is_sent(account, fields, field):
    with pytest.raises(ValidationError) as refused:
        scene_create(account=account, name="x", **fields)
    assert field in refused.value.message_dict
    assert not QRScene.objects.exists() and not SandboxCall.objects.filter(api=Endpoint.QRCODE_CREATE.path).exists()


def test_limits_at_the_edge_are_accepted(account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        scene_create(account=account, name="a", scene_id=2**32 - 1, expire_seconds=2_592_000)
        scene_create(account=account, name="b", kind=QRKind.PERMANENT, scene_id=100_000)
        scene_create(account=account, name="c", kind=QRKind.PERMANENT, scene_str="s" * 64)
    assert set(QRScene.objects.values_list("sync_status", flat=True)) == {SyncStatus.SYNCED}


def test_one_scene_value_per_account(account):
    scene_create(account=account, name="a", kind=QRKind.PERMANENT, scene_id=7)
    with pytest.raises(ValidationError) as refused:
        scene_create(account=account, name="b", kind=QRKind.TEMPORARY, scene_str="7", expire_seconds=60)
    assert "already has a QR code" in refused.value.message_dict["scene_str"][0]


def test_a_wechat_refusal_is_kept_on_the_scene_with_its_meaning(account, sandbox_app, django_capture_on_commit_callbacks):
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.QRCODE_CREATE.path, kind="errcode", value=48001, remaining=1)
    with django_capture_on_commit_callbacks(execute=True):
        scene = scene_create(account=account, name="a", scene_id=5, expire_seconds=60)
    scene.refresh_from_db()
    assert scene.sync_status == SyncStatus.FAILED and scene.last_error.startswith("48001")
    assert not scene.ticket

    with django_capture_on_commit_callbacks(execute=True):
        assert scene_renew(scene=scene)
    scene.refresh_from_db()
    assert scene.sync_status == SyncStatus.SYNCED and scene.ticket and scene.last_error == ""


def test_an_expired_temporary_code_shows_expired_and_renews_with_a_new_ticket(account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        scene = scene_create(account=account, name="a", scene_id=5, expire_seconds=60)
    scene.refresh_from_db()
    old = scene.ticket
    assert scene.is_expired(timezone.now() + timedelta(seconds=61)) and not scene.is_expired()
    QRScene.objects.filter(pk=scene.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    scene.refresh_from_db()
    assert scene.is_expired()
    with django_capture_on_commit_callbacks(execute=True):
        assert scene_renew(scene=scene)
    scene.refresh_from_db()
    assert scene.ticket != old and not scene.is_expired()


def test_a_png_with_a_centre_logo_still_decodes(account, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    logo = io.BytesIO()
    Image.new("RGB", (200, 200), "#07c160").save(logo, format="PNG")
    plain = qr_png(content="http://weixin.qq.com/q/abc")
    with_logo = qr_png(content="http://weixin.qq.com/q/abc", logo=io.BytesIO(logo.getvalue()))
    assert plain != with_logo
    assert decode(with_logo) == "http://weixin.qq.com/q/abc"
    centre = Image.open(io.BytesIO(with_logo)).convert("RGB")
    assert centre.getpixel((centre.width // 2, centre.height // 2)) == (7, 193, 96)

    scene = QRSceneFactory(
        account=account, name="logo", kind=QRKind.PERMANENT, scene_str="l", scene_key="l", url="http://weixin.qq.com/q/x"
    )
    scene.logo = SimpleUploadedFile("logo.png", logo.getvalue(), content_type="image/png")
    scene.save()
    assert decode(scene_png(scene=scene)) == "http://weixin.qq.com/q/x"

import pytest
from django.core.exceptions import ValidationError

from media_assets.models import Material
from media_assets.services import materials
from media_assets.tests.factories import MaterialFactory, upload
from sandbox import images
from sandbox.models import SandboxCall, SandboxMaterial
from sandbox.tests.factories import SandboxFaultFactory
from wechat.api.endpoints import Endpoint
from wechat.errors import WeChatError
from wechat.models import SyncStatus

ADDS = Endpoint.MATERIAL_ADD.path


def create(account, django_capture_on_commit_callbacks, **kwargs):
    kwargs.setdefault("kind", "image")
    kwargs.setdefault("upload", upload())
    with django_capture_on_commit_callbacks(execute=True):
        material = materials.material_create(account=account, **kwargs)
    material.refresh_from_db()
    return material


def test_an_image_material_is_uploaded_with_its_url(account, django_capture_on_commit_callbacks):
    material = create(account, django_capture_on_commit_callbacks)
    assert material.sync_status == SyncStatus.SYNCED and material.usable
    remote = SandboxMaterial.objects.get(media_id=material.media_id)
    assert remote.type == "image" and material.url == remote.url
    assert material.file.read() == bytes(remote.content)


def test_an_oversize_upload_is_refused_before_any_call(account):
    big = upload("big.png", images.png() + b"\x00" * (2 * 1024 * 1024))
    with pytest.raises(ValidationError) as refused:
        materials.material_create(account=account, kind="image", upload=big)
    assert "WeChat takes image files up to 2 MB" in refused.value.message_dict["file"][0]
    assert not Material.objects.exists()
    assert not SandboxCall.objects.filter(api=ADDS).exists()


def test_a_wrong_format_names_the_formats_wechat_takes(account):
    with pytest.raises(ValidationError) as refused:
        materials.material_create(account=account, kind="thumb", upload=upload("cover.png"))
    assert "JPG/JPEG" in refused.value.message_dict["file"][0]
    assert not Material.objects.exists()


def test_a_video_without_a_title_is_refused_on_the_title(account):
    with pytest.raises(ValidationError) as refused:
        materials.material_create(account=account, kind="video", upload=upload("clip.mp4", images.mp4()))
    assert refused.value.message_dict == {"title": ["A video material needs a title."]}
    assert not SandboxCall.objects.filter(api=ADDS).exists()


def test_a_full_library_is_refused_before_any_call(account, monkeypatch):
    monkeypatch.setitem(materials.count_refusal.__globals__["MATERIAL_CAPS"], "voice", 2)
    MaterialFactory.create_batch(2, account=account, kind="voice")
    with pytest.raises(ValidationError) as refused:
        materials.material_create(account=account, kind="voice", upload=upload("a.mp3", images.mp3()))
    assert "already holds 2 voice materials" in refused.value.message_dict["kind"][0]


def test_wechats_refusal_is_on_the_row_with_its_meaning(account, sandbox_app, django_capture_on_commit_callbacks):
    SandboxFaultFactory(app=sandbox_app, api=ADDS, kind="errcode", value=40004, remaining=1)
    create(account, django_capture_on_commit_callbacks)
    material = Material.objects.get()
    assert material.sync_status == SyncStatus.FAILED and not material.media_id
    assert material.last_error == "40004: 不合法的媒体文件类型 / Invalid media type"
    assert materials.materials_sync(materials=Material.objects.all()) == 1


def test_bulk_sync_uploads_again_a_material_deleted_in_the_wechat_console(account, django_capture_on_commit_callbacks):
    material = create(account, django_capture_on_commit_callbacks)
    SandboxMaterial.objects.filter(media_id=material.media_id).delete()
    assert materials.material_mark_removed(account=account, media_ids=[material.media_id]) == 1
    material.refresh_from_db()
    assert not material.usable and material.last_error.startswith("40007")
    with django_capture_on_commit_callbacks(execute=True):
        assert materials.materials_sync(materials=Material.objects.filter(pk=material.pk)) == 1
    material.refresh_from_db()
    assert material.usable and SandboxMaterial.objects.filter(media_id=material.media_id).exists()


def test_delete_removes_it_on_wechat_and_here(account, django_capture_on_commit_callbacks):
    material = create(account, django_capture_on_commit_callbacks)
    materials.material_delete(material=material)
    assert not Material.objects.exists() and not SandboxMaterial.objects.exists()


def test_deleting_one_already_gone_on_wechat_just_removes_it_here(account):
    material = MaterialFactory(account=account)  # WeChat never had it: 40007
    materials.material_delete(material=material)
    assert not Material.objects.exists()


def test_a_material_in_use_by_a_menu_stays_with_48005(account, sandbox_app, django_capture_on_commit_callbacks):
    material = create(account, django_capture_on_commit_callbacks)
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.MATERIAL_DEL.path, kind="errcode", value=48005, remaining=1)
    with pytest.raises(WeChatError):
        materials.material_delete(material=material)
    material.refresh_from_db()
    assert material.last_error.startswith("48005: 素材被自动回复或菜单引用")

"""The media library in the admin: a grid of thumbnails, uploads refused with a clear message, scoping, pulls."""

from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.tests.factories import OfficialAccountFactory
from media_assets.models import Material, MaterialPullJob
from media_assets.tests.factories import MaterialFactory
from sandbox import images
from sandbox.models import SandboxCall
from sandbox.tests.factories import SandboxFaultFactory
from wechat.api import media as wechat_media
from wechat.api.endpoints import Endpoint

LIST = "/en/admin/media_assets/material/"


def post_upload(client, account, name, content, **fields):
    data = {"account": account.pk, "kind": "image", "title": "", "description": "", **fields}
    data["file"] = SimpleUploadedFile(name, content)
    return client.post(f"{LIST}add/", data)


def test_an_uploaded_image_shows_in_the_grid_as_a_thumbnail(admin_client, account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_upload(admin_client, account, "cat.png", images.png(label="cat"))
    assert response.status_code == 302
    material = Material.objects.get()
    assert material.usable and material.url
    page = admin_client.get(LIST).content.decode()
    assert 'class="material-grid"' in page and '<table id="result_list"' not in page
    file_url = f"{LIST}{material.pk}/file/"
    assert f'src="{file_url}"' in page
    served = admin_client.get(file_url)
    assert served.status_code == 200 and b"".join(served.streaming_content).startswith(b"\x89PNG")
    detail = admin_client.get(f"{LIST}{material.pk}/change/").content.decode()
    assert f'src="{file_url}"' in detail and material.media_id in detail and 'name="file"' not in detail


def test_an_oversize_image_is_refused_on_the_form_and_nothing_is_saved_or_sent(admin_client, account):
    response = post_upload(admin_client, account, "huge.png", images.png() + b"\x00" * (2 * 1024 * 1024 + 1))
    assert response.status_code == 200
    assert "WeChat takes image files up to 2 MB" in response.content.decode()
    assert not Material.objects.exists()
    assert not SandboxCall.objects.filter(api=Endpoint.MATERIAL_ADD.path).exists()


def test_a_video_without_a_title_is_refused_on_the_form(admin_client, account):
    response = post_upload(admin_client, account, "clip.mp4", images.mp4(), kind="video")
    assert "A video material needs a title." in response.content.decode()
    assert not Material.objects.exists()


def test_wechats_refusal_shows_on_the_tile_with_its_meaning(
    admin_client, account, sandbox_app, django_capture_on_commit_callbacks
):
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.MATERIAL_ADD.path, kind="errcode", value=40004, remaining=1)
    with django_capture_on_commit_callbacks(execute=True):
        post_upload(admin_client, account, "cat.png", images.png())
    page = admin_client.get(LIST).content.decode()
    assert "40004: 不合法的媒体文件类型 / Invalid media type" in page


def test_operators_see_only_their_accounts_materials_and_files(client, account):
    other = OfficialAccountFactory()
    mine, theirs = MaterialFactory(account=account, name="mine.png"), MaterialFactory(account=other, name="theirs.png")
    user = User.objects.create_user("op", password="pw-for-tests-1", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="media_assets"))
    account.operators.add(user)
    client.force_login(user)
    page = client.get(LIST).content.decode()
    assert "mine.png" in page and "theirs.png" not in page
    assert client.get(f"{LIST}{theirs.pk}/change/").status_code in (302, 404)
    assert client.get(f"{LIST}{theirs.pk}/file/").status_code == 404
    assert client.post(f"{LIST}pull/", {"account": other.pk}).status_code == 404
    assert not MaterialPullJob.objects.exists()
    assert mine.pk


def test_pull_from_wechat_fills_the_grid_and_shows_its_progress(admin_client, account, django_capture_on_commit_callbacks):
    wechat_media.material_add(account=account, kind="image", media=wechat_media.MediaFile("a.png", images.png()))
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"{LIST}pull/", {"account": account.pk})
    assert MaterialPullJob.objects.get().status == "succeeded"
    page = admin_client.get(LIST).content.decode()
    assert "1 / 1" in page and Material.objects.get().file


def test_delete_action_keeps_a_material_wechat_refuses_to_delete(
    admin_client, account, sandbox_app, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_upload(admin_client, account, "cat.png", images.png())
    material = Material.objects.get()
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.MATERIAL_DEL.path, kind="errcode", value=48005, remaining=1)
    response = admin_client.post(LIST, {"action": "delete_on_wechat", "_selected_action": [material.pk]}, follow=True)
    assert "48005" in response.content.decode() and Material.objects.filter(pk=material.pk).exists()
    admin_client.post(LIST, {"action": "delete_on_wechat", "_selected_action": [material.pk]})
    assert not Material.objects.exists()


def test_temporary_media_upload_in_the_admin(admin_client, account):
    from media_assets.models import TemporaryMedia

    response = admin_client.post(
        "/en/admin/media_assets/temporarymedia/add/",
        {"account": account.pk, "kind": "voice", "file": SimpleUploadedFile("hello.mp3", images.mp3())},
    )
    assert response.status_code == 302
    page = admin_client.get("/en/admin/media_assets/temporarymedia/").content.decode()
    assert "hello.mp3" in page and "<audio" in page
    media = TemporaryMedia.objects.get()
    detail = admin_client.get(f"/en/admin/media_assets/temporarymedia/{media.pk}/change/").content.decode()
    assert "<audio" in detail and media.media_id in detail


def test_expired_temporary_media_can_be_uploaded_again_from_the_list(admin_client, account):
    from media_assets.models import TemporaryMedia
    from media_assets.tests.factories import TemporaryMediaFactory

    media = TemporaryMediaFactory(account=account)
    page = admin_client.get("/en/admin/media_assets/temporarymedia/").content.decode()
    assert "expired (uploaded again on use)" in page
    admin_client.post("/en/admin/media_assets/temporarymedia/", {"action": "upload_again", "_selected_action": [media.pk]})
    fresh = TemporaryMedia.objects.get(pk=media.pk)
    assert fresh.media_id != media.media_id and not fresh.is_expired()


def test_the_grid_offers_the_bulk_actions(admin_client, account):
    MaterialFactory(account=account)
    page = admin_client.get(LIST).content.decode()
    assert 'value="sync_selected"' in page and 'value="delete_on_wechat"' in page
    assert 'value="delete_selected"' not in page

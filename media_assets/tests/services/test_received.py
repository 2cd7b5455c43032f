from conftest import sample_text
from media_assets.models import TemporaryMedia
from messaging.inbound.models import InboundMessage
from messaging.inbound.tests.callback_client import post_callback
from sandbox import images
from sandbox.endpoints.media import follower_media_put
from wechat.models import SyncStatus


def receive(client, account, django_capture_on_commit_callbacks, sample: str, media_id: str) -> InboundMessage:
    xml = sample_text(sample).replace("<![CDATA[media_id]]>", f"<![CDATA[{media_id}]]>")
    with django_capture_on_commit_callbacks(execute=True):
        assert post_callback(client, account, xml).status_code == 200
    return InboundMessage.objects.select_related("received_media").get()


def test_a_followers_image_is_downloaded_and_kept_with_the_message(
    client, account, sandbox_app, django_capture_on_commit_callbacks
):
    picture = images.png(color="blue")
    media_id = follower_media_put(sandbox_app, kind="image", content=picture)
    inbound = receive(client, account, django_capture_on_commit_callbacks, "inbound/msg_image.xml", media_id)
    media = inbound.received_media
    assert media.origin == TemporaryMedia.Origin.RECEIVED and media.sync_status == SyncStatus.SYNCED
    assert media.content_type == "image/png" and media.name.endswith(".png")
    with media.file.open("rb") as stored:
        assert stored.read() == picture
    assert media.expires_at - media.uploaded_at == TemporaryMedia.LIFETIME


def test_a_followers_voice_is_kept_for_the_player(client, account, sandbox_app, django_capture_on_commit_callbacks):
    media_id = follower_media_put(sandbox_app, kind="voice", content=b"#!AMR\n" + b"\x00" * 64)
    media = receive(client, account, django_capture_on_commit_callbacks, "inbound/msg_voice.xml", media_id).received_media
    assert (media.kind, media.content_type, media.sync_status) == ("voice", "audio/amr", SyncStatus.SYNCED)


def test_a_followers_video_keeps_its_link(client, account, sandbox_app, django_capture_on_commit_callbacks):
    media_id = follower_media_put(sandbox_app, kind="video", content=images.mp4())
    media = receive(client, account, django_capture_on_commit_callbacks, "inbound/msg_video.xml", media_id).received_media
    assert media.kind == "video" and media.video_url.endswith(".mp4") and not media.file


def test_media_wechat_no_longer_has_is_failed_with_its_meaning(client, account, django_capture_on_commit_callbacks):
    media = receive(client, account, django_capture_on_commit_callbacks, "inbound/msg_image.xml", "gone").received_media
    assert media.sync_status == SyncStatus.FAILED
    assert media.last_error == "40007: 不合法的媒体文件 id（已过期或不存在） / Invalid media_id (expired or unknown)"


def test_operators_see_the_followers_picture_in_the_log_the_inbox_and_the_thread(
    admin_client, client, account, sandbox_app, django_capture_on_commit_callbacks
):
    media_id = follower_media_put(sandbox_app, kind="image", content=images.png())
    inbound = receive(client, account, django_capture_on_commit_callbacks, "inbound/msg_image.xml", media_id)
    src = f'src="/en/admin/media_assets/temporarymedia/{inbound.received_media_id}/file/"'
    assert src in admin_client.get("/en/admin/inbound/inboundmessage/").content.decode()
    assert src in admin_client.get("/en/admin/kefu/conversation/").content.decode()
    thread = admin_client.get(f"/en/admin/kefu/conversation/thread/{account.pk}/{inbound.openid}/", follow=True)
    assert src in thread.content.decode()
    served = admin_client.get(f"/en/admin/media_assets/temporarymedia/{inbound.received_media_id}/file/")
    assert served["Content-Type"] == "image/png"


def test_the_simulators_picture_reaches_the_library(admin_client, account, sandbox_app, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"/sandbox/simulator/?appid={account.appid}", {"action": "image", "content": "收据"})
    inbound = InboundMessage.objects.get(msg_type="image")
    assert inbound.received_media.sync_status == SyncStatus.SYNCED and inbound.received_media.file

"""Where a media_id used to be typed, it is chosen from the library; one the library lacks is refused on the form."""

import pytest

from accounts.tests.factories import OfficialAccountFactory
from media_assets.models import TemporaryMedia
from media_assets.services import temporary
from media_assets.tests.factories import MaterialFactory, TemporaryMediaFactory, upload
from messaging.autoreply.models import AutoReplyRule
from messaging.autoreply.tests.test_rules_admin import ADD_URL, form_data
from messaging.kefu import services as customer_service
from messaging.kefu.models import Conversation, OutboundMessage
from messaging.mass.models import MassMessage
from messaging.mass.tests.test_mass import make_tag
from messaging.mass.tests.test_mass_admin import BASE as MASS_URL
from messaging.mass.tests.test_mass_admin import compose
from sandbox import phone
from sandbox.models import SandboxDelivery
from sandbox.tests.factories import SandboxFaultFactory
from wechat.api.endpoints import Endpoint

OPENID = "oPicker000000000000000000001"


def test_an_auto_reply_image_refuses_a_media_id_not_in_the_library(admin_client, account):
    response = admin_client.post(ADD_URL, form_data(account, replies=[{"reply_type": "image", "media_id": "made-up-id"}]))
    assert response.status_code == 200
    assert "“made-up-id” is not in this account&#x27;s permanent materials" in response.content.decode()
    assert not AutoReplyRule.objects.exists()


def test_an_auto_reply_image_takes_a_material_of_the_account(admin_client, account):
    material = MaterialFactory(account=account)
    response = admin_client.post(ADD_URL, form_data(account, replies=[{"reply_type": "image", "media_id": material.media_id}]))
    assert response.status_code == 302
    assert AutoReplyRule.objects.get().contents.get().media_id == material.media_id


def test_an_auto_reply_refuses_another_accounts_material_and_the_wrong_type(admin_client, account):
    theirs = MaterialFactory(account=OfficialAccountFactory())
    voice = MaterialFactory(account=account, kind="voice", name="hello.mp3")
    for media_id in (theirs.media_id, voice.media_id):
        response = admin_client.post(ADD_URL, form_data(account, replies=[{"reply_type": "image", "media_id": media_id}]))
        assert response.status_code == 200
    assert "hello.mp3” is a voice" in response.content.decode().replace("&#x27;", "'")
    assert not AutoReplyRule.objects.exists()


def test_the_auto_reply_form_offers_the_library_with_previews(admin_client, account):
    material = MaterialFactory(account=account, file=upload("cat.png"))
    page = admin_client.get(ADD_URL).content.decode()
    assert f'data-media-id="{material.media_id}"' in page
    assert f'src="/en/admin/media_assets/material/{material.pk}/file/"' in page
    assert "media_assets/media_picker.js" in page


@pytest.fixture
def conversation(sandbox_app, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        phone.follower_sends(sandbox_app, OPENID, {"MsgType": "text", "Content": "在吗"})
    return Conversation.objects.get(openid=OPENID)


def test_a_customer_service_image_refuses_a_media_id_not_in_the_library(admin_client, conversation):
    url = f"/en/admin/kefu/conversation/{conversation.pk}/change/"
    response = admin_client.post(url, {"kind": "image", "media_id": "made-up-id"})
    assert "is not in this account&#x27;s media library" in response.content.decode()
    assert not OutboundMessage.objects.exists()


def test_a_customer_service_image_from_an_expired_temporary_media_is_uploaded_again_and_sent(
    admin_client, account, conversation, django_capture_on_commit_callbacks
):
    media = TemporaryMediaFactory(account=account)  # expired a day ago
    url = f"/en/admin/kefu/conversation/{conversation.pk}/change/"
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"kind": "image", "media_id": media.media_id})
    assert response.status_code == 302
    fresh = TemporaryMedia.objects.get(pk=media.pk).media_id
    assert fresh != media.media_id
    delivered = SandboxDelivery.objects.get(channel="custom", openid=OPENID)
    assert delivered.payload["image"]["media_id"] == fresh
    assert OutboundMessage.objects.get().status == "sent"


def test_an_expired_media_without_its_file_fails_the_message_with_40007(account, conversation):
    media = TemporaryMediaFactory(account=account, file="")
    outbound = customer_service.outbound_create(
        account=account, openid=OPENID, payload={"msgtype": "image", "image": {"media_id": media.media_id}}
    )
    with pytest.raises(temporary.MediaUnavailable):
        customer_service.outbound_send(outbound=outbound)
    outbound.refresh_from_db()
    assert (outbound.status, outbound.errcode) == ("failed", 40007)


def test_a_mass_image_send_refuses_a_media_id_not_in_the_library(admin_client, account):
    tag = make_tag(account)
    good = MaterialFactory(account=account)
    data = compose(account, tag, msgtype="image", content="", media_ids_text=f"{good.media_id}\nmade-up-id")
    response = admin_client.post(MASS_URL + "add/", data)
    assert response.status_code == 200
    assert "“made-up-id” is not in this account&#x27;s media library" in response.content.decode()
    assert not MassMessage.objects.exists()
    response = admin_client.post(MASS_URL + "add/", {**data, "media_ids_text": good.media_id})
    assert response.status_code == 302
    assert MassMessage.objects.get().media_ids == [good.media_id]


def test_a_mass_voice_send_offers_voice_materials(admin_client, account):
    voice = MaterialFactory(account=account, kind="voice", name="news.mp3")
    assert f'data-media-id="{voice.media_id}"' in admin_client.get(MASS_URL + "add/").content.decode()


def test_a_material_deleted_in_the_wechat_console_is_marked_when_a_send_meets_40007(account, conversation):
    from wechat.errors import WeChatError

    material = MaterialFactory(account=account)
    SandboxFaultFactory(api=Endpoint.CUSTOM_SEND.path, kind="errcode", value=40007, remaining=1)
    outbound = customer_service.outbound_create(
        account=account, openid=OPENID, payload={"msgtype": "image", "image": {"media_id": material.media_id}}
    )
    with pytest.raises(WeChatError) as refused:
        customer_service.outbound_send(outbound=outbound)
    assert refused.value.errcode == 40007
    material.refresh_from_db()
    assert not material.usable and material.last_error.startswith("40007")

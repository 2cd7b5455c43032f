from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from media_assets.models import TemporaryMedia
from media_assets.services import temporary
from media_assets.tests.factories import TemporaryMediaFactory, upload
from sandbox.models import SandboxCall, SandboxMedia
from wechat.api.endpoints import Endpoint

UPLOADS = Endpoint.MEDIA_UPLOAD.path


def test_an_upload_stores_the_file_the_media_id_and_its_expiry_three_days_on(account):
    media = temporary.temporary_media_create(account=account, kind="image", upload=upload())
    assert SandboxMedia.objects.filter(media_id=media.media_id, type="image").exists()
    assert media.expires_at - media.uploaded_at == timedelta(days=3)
    with media.file.open("rb") as stored:
        assert stored.read().startswith(b"\x89PNG")
    assert not media.is_expired()


def test_expired_temporary_media_is_uploaded_again_before_use(account):
    media = TemporaryMediaFactory(account=account)  # uploaded 4 days ago
    old = media.media_id
    fresh = temporary.media_id_for_use(media=media)
    assert fresh != old
    assert SandboxMedia.objects.filter(media_id=fresh).exists()
    media.refresh_from_db()
    assert media.media_id == fresh and media.expires_at > timezone.now() + timedelta(days=2)
    assert SandboxCall.objects.filter(api=UPLOADS).count() == 1
    # Still valid: used as is, no second upload.
    assert temporary.media_id_for_use(media=media) == fresh
    assert SandboxCall.objects.filter(api=UPLOADS).count() == 1


def test_a_message_naming_an_expired_media_id_gets_the_new_one(account):
    media = TemporaryMediaFactory(account=account)
    fresh = temporary.media_id_for_send(account=account, media_id=media.media_id)
    assert fresh == TemporaryMedia.objects.get(pk=media.pk).media_id != media.media_id


def test_a_media_id_close_to_expiry_is_replaced_too(account):
    media = TemporaryMediaFactory(account=account, uploaded_at=timezone.now() - timedelta(days=3) + timedelta(minutes=2))
    assert temporary.media_id_for_use(media=media) != "temporary"
    assert SandboxCall.objects.filter(api=UPLOADS).count() == 1


def test_an_expired_media_without_a_file_cannot_be_used(account):
    media = TemporaryMediaFactory(account=account, file="")
    with pytest.raises(temporary.MediaUnavailable) as refused:
        temporary.media_id_for_use(media=media)
    assert "40007" in str(refused.value)
    assert not SandboxCall.objects.filter(api=UPLOADS).exists()


def test_an_oversize_file_is_refused_before_any_call_and_nothing_is_saved(account):
    big = upload("big.jpg", b"\xff\xd8\xff" + b"\x00" * (2 * 1024 * 1024))
    with pytest.raises(ValidationError) as refused:
        temporary.temporary_media_create(account=account, kind="image", upload=big)
    assert "up to 2 MB" in refused.value.message_dict["file"][0]
    assert not TemporaryMedia.objects.exists()
    assert not SandboxCall.objects.filter(api=UPLOADS).exists()

"""A mass send (mpnews) of a published article: it names the draft's media_id (API.md §8), kept after publishing."""

from media_assets.models import PublishJob
from media_assets.selectors import mpnews_media_ids
from media_assets.services import publish as publish_services
from media_assets.tests.articles.factories import cover_material, saved_draft
from messaging.mass import services as mass
from messaging.mass.models import MassBatch, MassMessage
from messaging.mass.tests.test_mass import deliveries, make_followers, send_now


def test_a_published_article_goes_out_as_mpnews(account, sandbox_app, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    cover = cover_material(account)
    with django_capture_on_commit_callbacks(execute=True):
        draft = saved_draft(account, cover, titles=("本周文章",))
    draft.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        job = publish_services.publish_request(draft=draft)
    job.refresh_from_db()
    assert job.status == PublishJob.Status.PUBLISHED
    assert list(mpnews_media_ids(account=account).values_list("media_id", flat=True)) == [draft.media_id]

    ids = make_followers(account, sandbox_app, 2)
    message = mass.mass_message_create(
        account=account, title="本周文章", msgtype="mpnews", media_id=draft.media_id, audience="all"
    )
    message = send_now(message, django_capture_on_commit_callbacks)
    assert message.status == MassMessage.Status.SENT
    assert message.batches.get().status == MassBatch.Status.FINISHED
    sent = deliveries(sandbox_app)
    assert sorted(sent.values_list("openid", flat=True)) == sorted(ids)
    assert {d.payload["mpnews"]["media_id"] for d in sent} == {draft.media_id}


def test_the_form_takes_a_drafts_media_id_and_refuses_an_unknown_one(
    account, settings, tmp_path, rf, admin_user, django_capture_on_commit_callbacks
):
    from messaging.mass.admin.forms import MassMessageForm

    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        draft = saved_draft(account, cover_material(account), titles=("本周文章",))
    draft.refresh_from_db()
    request = rf.get("/")
    request.user = admin_user

    def form(media_id):
        data = {"account": account.pk, "title": "t", "msgtype": "mpnews", "media_id": media_id, "audience": "all"}
        return MassMessageForm(data=data, request=request)

    assert form(draft.media_id).is_valid(), form(draft.media_id).errors
    refused = form("NOT_A_DRAFT")
    assert not refused.is_valid()
    assert "Not a draft of this account" in refused.errors["media_id"][0]

"""The mass-send admin: compose, preview, confirm with quota, send, schedule, cancel, results, speed."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from messaging.mass import services as mass
from messaging.mass.models import MassBatch, MassMessage
from messaging.mass.tests.test_mass import make_followers, make_tag, openid, text_message
from sandbox.models import SandboxDelivery
from sandbox.tests.factories import SandboxFaultFactory
from wechat.api.endpoints import Endpoint

BASE = "/en/admin/mass/massmessage/"


@pytest.fixture
def admin_client_en(client, db):
    user = get_user_model().objects.create_user("boss", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def compose(account, tag_obj, **extra):
    return {
        "account": account.pk,
        "title": "Spring sale",
        "msgtype": "text",
        "content": "春季促销",
        "media_id": "",
        "media_ids_text": "",
        "recommend": "",
        "video_title": "",
        "video_description": "",
        "card_id": "",
        "audience": "tag",
        "tag": tag_obj.pk,
        "openids_text": "",
        "filter_scene": "",
        "batches-TOTAL_FORMS": "0",
        "batches-INITIAL_FORMS": "0",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
        **extra,
    }


def test_compose_preview_confirm_and_send(admin_client_en, account, sandbox_app, django_capture_on_commit_callbacks):
    tag = make_tag(account)
    ids = make_followers(account, sandbox_app, 3, tag=tag)
    assert admin_client_en.get(BASE + "add/").status_code == 200
    response = admin_client_en.post(BASE + "add/", compose(account, tag))
    assert response.status_code == 302, response.context["adminform"].form.errors
    message = MassMessage.objects.get()
    assert message.status == "draft" and message.created_by.username == "boss"

    page = admin_client_en.get(f"{BASE}{message.pk}/change/").content.decode()
    assert "Send or schedule" in page and "Preview" in page

    response = admin_client_en.post(f"{BASE}{message.pk}/preview/", {"openids": ids[0]}, follow=True)
    assert "Preview sent to" in response.content.decode()
    assert SandboxDelivery.objects.filter(channel="preview", openid=ids[0]).count() == 1

    confirm = admin_client_en.get(f"{BASE}{message.pk}/send/").content.decode()
    assert 'id="mass-audience-size">3<' in confirm
    assert "0 of the audience already got 4 this month" in confirm

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_en.post(f"{BASE}{message.pk}/send/", {"confirm": "yes", "when": "now"})
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.status == "sent"
    page = admin_client_en.get(f"{BASE}{message.pk}/change/").content.decode()
    assert "3 / 3 / 0" in page
    listing = admin_client_en.get(BASE).content.decode()
    assert "Spring sale" in listing and "100%" in listing


def test_preview_error_is_shown_with_its_meaning(admin_client_en, account, sandbox_app):
    message = text_message(account)
    response = admin_client_en.post(f"{BASE}{message.pk}/preview/", {"openids": openid(42)}, follow=True)
    page = response.content.decode()
    assert "40003" in page and "Invalid OpenID" in page


def test_form_errors_are_shown_and_nothing_is_saved(admin_client_en, account):
    tag = make_tag(account, wechat_id=None, name="unsynced")
    response = admin_client_en.post(BASE + "add/", compose(account, tag, content=""))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "content" in errors and "tag" in errors
    assert not MassMessage.objects.exists()


def test_openid_csv_upload_is_normalised(admin_client_en, account):
    from django.core.files.uploadedfile import SimpleUploadedFile

    tag = make_tag(account)
    upload = SimpleUploadedFile("list.csv", f"openid\n{openid(1)}\n{openid(2)}\n{openid(1)}\n".encode())
    data = compose(account, tag, audience="openids", tag="", openids_text=openid(3), openids_file=upload)
    response = admin_client_en.post(BASE + "add/", data)
    assert response.status_code == 302
    assert MassMessage.objects.get().openids == [openid(3), openid(1), openid(2)]


def test_schedule_later_then_cancel_in_the_admin(admin_client_en, account, sandbox_app):
    message = text_message(account)
    at = timezone.localtime(timezone.now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    admin_client_en.post(f"{BASE}{message.pk}/send/", {"confirm": "yes", "when": "later", "scheduled_at": at})
    message.refresh_from_db()
    assert message.status == "scheduled"
    assert "Cancel send" in admin_client_en.get(f"{BASE}{message.pk}/change/").content.decode()
    admin_client_en.post(f"{BASE}{message.pk}/cancel/", {"reason": "typo"})
    message.refresh_from_db()
    assert message.status == "cancelled"


def test_past_time_is_refused_on_the_confirmation_page(admin_client_en, account):
    message = text_message(account)
    response = admin_client_en.post(
        f"{BASE}{message.pk}/send/", {"confirm": "yes", "when": "later", "scheduled_at": "2001-01-01T09:00"}
    )
    assert "in the past" in response.content.decode()
    message.refresh_from_db()
    assert message.status == "draft"


def test_failed_send_shows_errcode_and_meaning(admin_client_en, account, sandbox_app, django_capture_on_commit_callbacks):
    make_followers(account, sandbox_app, 2)
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.MASS_SENDALL.path, kind="errcode", value=45009)
    message = text_message(account)
    with django_capture_on_commit_callbacks(execute=True):
        mass.mass_message_schedule(message=message)
    page = admin_client_en.get(f"{BASE}{message.pk}/change/").content.decode()
    assert "45009" in page and "Daily API quota reached" in page


def test_subscription_quota_is_shown(admin_client_en, make_account, django_capture_on_commit_callbacks):
    account = make_account(account_type="subscription")
    tag = make_tag(account)
    from sandbox.models import SandboxApp

    make_followers(account, SandboxApp.objects.get(appid=account.appid), 2, tag=tag)
    with django_capture_on_commit_callbacks(execute=True):
        mass.mass_message_schedule(message=text_message(account))
    second = text_message(account, title="second")
    page = admin_client_en.get(f"{BASE}{second.pk}/send/").content.decode()
    assert "1 sent today; 0 left" in page


def test_recurrence_page_creates_a_periodic_task(admin_client_en, account):
    message = text_message(account)
    values = {"minute": "0", "hour": "9", "day_of_week": "1", "day_of_month": "*", "month_of_year": "*"}
    admin_client_en.post(f"{BASE}{message.pk}/recurrence/", values)
    message.refresh_from_db()
    assert message.recurring_task.crontab.hour == "9"
    page = admin_client_en.get(f"{BASE}{message.pk}/change/").content.decode()
    assert "enabled" in page
    response = admin_client_en.post(f"{BASE}{message.pk}/recurrence/", {**values, "minute": "77"})
    assert "Invalid crontab" in response.content.decode()


def test_speed_page_gets_and_sets(admin_client_en, account, sandbox_app):
    page = admin_client_en.get(BASE + "speed/").content.decode()
    assert "Current level 0" in page
    response = admin_client_en.post(BASE + "speed/", {"account": account.pk, "speed": "2"}, follow=True)
    assert "Current level 2" in response.content.decode()


def test_delete_and_poll_actions(admin_client_en, account, sandbox_app, django_capture_on_commit_callbacks):
    message = text_message(account)
    response = admin_client_en.post(BASE, {"action": "delete_articles", "_selected_action": [message.pk]}, follow=True)
    assert "Only article (mpnews) and video" in response.content.decode()
    response = admin_client_en.post(BASE, {"action": "poll_results", "_selected_action": [message.pk]}, follow=True)
    assert "0 batch(es) checked" in response.content.decode()


def test_sent_message_is_read_only(admin_client_en, account, sandbox_app, django_capture_on_commit_callbacks):
    make_followers(account, sandbox_app, 2)
    message = text_message(account)
    with django_capture_on_commit_callbacks(execute=True):
        mass.mass_message_schedule(message=message)
    page = admin_client_en.get(f"{BASE}{message.pk}/change/").content.decode()
    assert 'name="content"' not in page
    assert MassBatch.objects.get().clientmsgid in page
    assert admin_client_en.get(f"{BASE}{message.pk}/send/").status_code == 302


def test_zh_hans_admin_renders(client, account):
    client.force_login(get_user_model().objects.create_user("zh", is_staff=True, is_superuser=True))
    message = text_message(account)
    assert client.get("/admin/mass/massmessage/").status_code == 200
    assert client.get(f"/admin/mass/massmessage/{message.pk}/change/").status_code == 200
    assert client.get(f"/admin/mass/massmessage/{message.pk}/send/").status_code == 200


def test_operator_sees_only_their_accounts(client, account, make_account):
    other = make_account(appid="wx00000000000000ee")
    mine, theirs = text_message(account, title="mine"), text_message(other, title="theirs")
    user = get_user_model().objects.create_user("op", is_staff=True)
    from django.contrib.auth.models import Permission

    user.user_permissions.add(*Permission.objects.filter(codename__endswith="massmessage"))
    account.operators.add(user)
    client.force_login(user)
    listing = client.get(BASE).content.decode()
    assert "mine" in listing and "theirs" not in listing
    assert client.get(f"{BASE}{theirs.pk}/send/").status_code == 404
    assert client.get(f"{BASE}{mine.pk}/send/").status_code == 200


def unknown_batch_message(account, app, capture):
    make_followers(account, app, 2)
    fault = SandboxFaultFactory(app=app, api=Endpoint.MASS_SENDALL.path, kind="timeout_after")
    message = text_message(account)
    with capture(execute=True):
        mass.mass_message_schedule(message=message)
    fault.delete()
    return message


def test_unknown_batch_is_explained_with_its_errcode_and_the_same_clientmsgid(
    admin_client_en, account, sandbox_app, django_capture_on_commit_callbacks
):
    message = unknown_batch_message(account, sandbox_app, django_capture_on_commit_callbacks)
    page = admin_client_en.get(f"{BASE}{message.pk}/change/").content.decode()
    assert "Outcome unknown" in page
    assert "-1001: 请求微信接口超时 / The call to WeChat timed out" in page
    assert "Repeated with the same clientmsgid until" in page
    assert "1 batch has an unknown outcome" in page


def test_unknown_batch_past_the_window_tells_the_operator_to_check_first(
    admin_client_en, account, sandbox_app, django_capture_on_commit_callbacks
):
    message = unknown_batch_message(account, sandbox_app, django_capture_on_commit_callbacks)
    MassBatch.objects.filter(message=message).update(first_called_at=timezone.now() - MassBatch.CLIENTMSGID_WINDOW)
    page = admin_client_en.get(f"{BASE}{message.pk}/change/").content.decode()
    assert "no longer remembers its clientmsgid" in page and "群发记录" in page


def test_resend_action_explains_which_batches_keep_their_clientmsgid(
    admin_client_en, account, sandbox_app, django_capture_on_commit_callbacks
):
    message = unknown_batch_message(account, sandbox_app, django_capture_on_commit_callbacks)
    listing = admin_client_en.get(BASE).content.decode()
    assert "batches with an unknown outcome repeat the same one" in listing
    assert "(followers may get it twice)" in listing

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_en.post(BASE, {"action": "resend", "_selected_action": [message.pk]}, follow=True)

    page = response.content.decode()
    assert "1 with an unknown outcome under the same clientmsgid" in page
    assert SandboxDelivery.objects.filter(channel="mass").count() == 2
    message.refresh_from_db()
    assert message.status == MassMessage.Status.SENT


def test_zh_hans_admin_shows_an_unknown_batch_in_chinese(client, account, sandbox_app, django_capture_on_commit_callbacks):
    client.force_login(get_user_model().objects.create_user("zh", is_staff=True, is_superuser=True))
    message = unknown_batch_message(account, sandbox_app, django_capture_on_commit_callbacks)
    page = client.get(f"/admin/mass/massmessage/{message.pk}/change/").content.decode()
    assert "结果未知" in page
    assert "1 个批次结果未知" in page
    assert "相同的 clientmsgid" in page

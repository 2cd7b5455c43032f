"""Mass sends against the sandbox: sending, idempotence, recovery, quotas, results and scheduling."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from conftest import sample_json, sample_text
from followers.models import Follower, Tag
from followers.tests.factories import TagFactory
from messaging.inbound.tests.callback_client import post_callback
from messaging.mass import selectors as mass_selectors
from messaging.mass import services as mass
from messaging.mass.models import MassBatch, MassMessage, MassMessageEvent
from messaging.mass.tests.factories import MassBatchFactory
from sandbox.models import SandboxCall, SandboxDelivery, SandboxFollower
from sandbox.tests.factories import SandboxFaultFactory, SandboxFollowerFactory
from wechat.api import mass as mass_api
from wechat.api.endpoints import Endpoint
from wechat.api.mass import MassSpeed, ToAll
from wechat.outgoing import Text, mass_payload

S = MassMessage.Status


def openid(i: int, prefix: str = "oMass") -> str:
    return f"{prefix}{i:023d}"


def make_followers(account, app, n: int, *, start: int = 0, tag: Tag | None = None, blacklisted: bool = False) -> list[str]:
    """The same users on both sides: WeChat's (SandboxFollower) and ours (followers.Follower)."""
    ids = [openid(i) for i in range(start, start + n)]
    SandboxFollower.objects.bulk_create(
        [SandboxFollower(app=app, openid=o, tagids=[tag.wechat_id] if tag else [], blacklisted=blacklisted) for o in ids]
    )
    Follower.objects.bulk_create([Follower(account=account, openid=o, subscribe_time=timezone.now()) for o in ids])
    if tag is not None:
        tag.followers.add(*Follower.objects.filter(account=account, openid__in=ids))
    return ids


def make_tag(account, wechat_id: int = 100, name: str = "VIP") -> Tag:
    return TagFactory(account=account, wechat_id=wechat_id, name=name)


def send_now(message, capture):
    """Schedule for now and run everything that follows the commit (dispatch, batches, job-finish push)."""
    with capture(execute=True):
        mass.mass_message_schedule(message=message)
    message.refresh_from_db()
    return message


def text_message(account, **fields):
    fields = {"title": "Weekly news", "msgtype": "text", "content": "你好，本周新闻", "audience": "all", **fields}
    return mass.mass_message_create(account=account, **fields)


def deliveries(app, channel="mass"):
    return SandboxDelivery.objects.filter(app=app, channel=channel)


def test_text_send_to_all_reaches_each_follower_once_and_records_the_job(
    account, sandbox_app, django_capture_on_commit_callbacks
):
    make_followers(account, sandbox_app, 3)
    message = send_now(text_message(account), django_capture_on_commit_callbacks)

    assert message.status == S.SENT
    batch = message.batches.get()
    assert batch.status == MassBatch.Status.FINISHED
    assert batch.msg_id
    assert (batch.total_count, batch.filter_count, batch.sent_count, batch.error_count) == (3, 3, 3, 0)
    assert deliveries(sandbox_app).count() == 3
    assert set(deliveries(sandbox_app).values_list("msg_id", flat=True)) == {batch.msg_id}
    call = SandboxCall.objects.get(api=Endpoint.MASS_SENDALL.path)
    assert call.request_json["filter"] == {"is_to_all": True}
    assert call.request_json["clientmsgid"] == batch.clientmsgid
    transitions = [(e.old_status, e.new_status) for e in message.events.all() if e.old_status != e.new_status]
    assert transitions == [("", "draft"), ("draft", "scheduled"), ("scheduled", "sending"), ("sending", "sent")]


def test_request_body_matches_the_documented_shape(account, sandbox_app, django_capture_on_commit_callbacks):
    tag = make_tag(account, wechat_id=2)
    make_followers(account, sandbox_app, 2, tag=tag)
    send_now(text_message(account, audience="tag", tag=tag), django_capture_on_commit_callbacks)
    sent = SandboxCall.objects.get(api=Endpoint.MASS_SENDALL.path).request_json
    documented = sample_json("api/mass_sendall_request_mpnews_by_tag.json")
    assert sent["filter"] == documented["filter"]
    assert set(documented) - {"mpnews", "send_ignore_reprint"} <= set(sent) | {"mpnews"}


def test_openid_list_send_uses_mass_send_with_touser(make_account, django_capture_on_commit_callbacks):
    account = make_account()
    app = account_app(account)
    ids = make_followers(account, app, 4)
    message = send_now(text_message(account, audience="openids", openids=ids), django_capture_on_commit_callbacks)
    assert message.status == S.SENT
    call = SandboxCall.objects.get(api=Endpoint.MASS_SEND.path)
    shape = sample_json("api/mass_send_request_openids_text.json")
    assert set(shape) == set(call.request_json)
    assert call.request_json["touser"] == ids
    assert deliveries(app).count() == 4


def account_app(account):
    from sandbox.models import SandboxApp

    return SandboxApp.objects.get(appid=account.appid)


def test_task_retried_after_the_call_succeeded_does_not_resend(account, sandbox_app, django_capture_on_commit_callbacks):
    make_followers(account, sandbox_app, 3)
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.MASS_SENDALL.path, kind="timeout_after", remaining=1)
    message = send_now(text_message(account), django_capture_on_commit_callbacks)

    batch = message.batches.get()
    calls = SandboxCall.objects.filter(api=Endpoint.MASS_SENDALL.path).order_by("id")
    assert [c.errcode for c in calls] == [0, 45065]
    assert {c.request_json["clientmsgid"] for c in calls} == {batch.clientmsgid}
    first_job = SandboxDelivery.objects.get(app=sandbox_app, channel="mass_job")
    assert batch.msg_id == first_job.msg_id
    assert batch.status == MassBatch.Status.FINISHED
    assert message.status == S.SENT
    assert deliveries(sandbox_app).count() == 3  # one per follower
    assert message.events.filter(reason__contains="same clientmsgid").exists()


def test_busy_answers_are_retried_with_backoff_and_the_same_clientmsgid(account, sandbox_app, django_capture_on_commit_callbacks):
    make_followers(account, sandbox_app, 2)
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.MASS_SENDALL.path, kind="errcode", value=-1, remaining=2)
    message = send_now(text_message(account), django_capture_on_commit_callbacks)
    calls = SandboxCall.objects.filter(api=Endpoint.MASS_SENDALL.path).order_by("id")
    assert [c.errcode for c in calls] == [-1, -1, 0]
    assert len({c.request_json["clientmsgid"] for c in calls}) == 1
    assert message.status == S.SENT
    assert message.batches.get().attempts == 3
    assert deliveries(sandbox_app).count() == 2


def test_timeout_before_the_call_took_effect_sends_once_on_retry(account, sandbox_app, django_capture_on_commit_callbacks):
    make_followers(account, sandbox_app, 2)
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.MASS_SENDALL.path, kind="timeout_before", remaining=1)
    message = send_now(text_message(account), django_capture_on_commit_callbacks)
    assert message.status == S.SENT
    assert deliveries(sandbox_app).count() == 2


def test_killed_worker_is_recovered_by_the_next_beat_tick_without_duplicates(
    account, sandbox_app, django_capture_on_commit_callbacks
):
    make_followers(account, sandbox_app, 3)
    message = text_message(account)
    mass.mass_message_schedule(message=message)  # not captured: the dispatch never ran
    assert mass.mass_message_dispatch(message_id=message.pk)  # batches created; their tasks were never enqueued
    batch = message.batches.get()
    # A worker claimed the batch, its call reached WeChat, then the worker was killed before recording anything.
    MassBatch.objects.filter(pk=batch.pk).update(status=MassBatch.Status.SENDING, attempts=1)
    first = mass_api.mass_send(
        account=account,
        message=mass_selectors.message_value(message),
        target=mass_selectors.batch_target(batch),
        clientmsgid=batch.clientmsgid,
    )
    MassBatch.objects.filter(pk=batch.pk).update(lease_until=timezone.now() - timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=True):
        result = mass.mass_dispatch_due()
    assert result["recovered"] == 1
    batch.refresh_from_db()
    message.refresh_from_db()
    assert batch.msg_id == first.msg_id
    assert batch.status in MassBatch.OK
    assert message.status == S.SENT
    assert deliveries(sandbox_app).count() == 3
    assert message.events.filter(reason__contains="lease expired").exists()


def test_batch_still_within_its_lease_is_left_alone(account, sandbox_app):
    make_followers(account, sandbox_app, 2)
    message = text_message(account)
    mass.mass_message_schedule(message=message)
    mass.mass_message_dispatch(message_id=message.pk)
    MassBatch.objects.filter(message=message).update(
        status=MassBatch.Status.SENDING, lease_until=timezone.now() + timedelta(minutes=4)
    )
    assert mass.mass_dispatch_due()["recovered"] == 0
    assert not SandboxCall.objects.filter(api=Endpoint.MASS_SENDALL.path).exists()


def test_openid_list_of_25001_is_split_into_three_batches(account):
    ids = [openid(i) for i in range(25_001)]
    message = text_message(account, audience="openids", openids=ids)
    mass.mass_message_schedule(message=message)
    assert mass.mass_message_dispatch(message_id=message.pk)
    batches = list(message.batches.order_by("index"))
    assert [len(b.openids) for b in batches] == [10_000, 10_000, 5_001]
    assert [b.recipients for b in batches] == [10_000, 10_000, 5_001]
    assert [o for b in batches for o in b.openids] == ids
    cids = [b.clientmsgid for b in batches]
    assert len(set(cids)) == 3
    assert all(len(c) <= 32 and c.isascii() for c in cids)
    assert cids == [mass.clientmsgid_for(message, i) for i in range(3)]


def test_split_never_leaves_a_batch_of_one():
    ids = [openid(i) for i in range(10_001)]
    assert [len(c) for c in mass.batches_split(ids)] == [9_999, 2]


def test_subscription_account_gets_45028_on_the_second_send_of_the_day(make_account, django_capture_on_commit_callbacks):
    account = make_account(account_type="subscription")
    app = account_app(account)
    make_followers(account, app, 2)
    first = send_now(text_message(account), django_capture_on_commit_callbacks)
    assert first.status == S.SENT
    quota = mass_selectors.mass_quota_for(message=text_message(account, title="second"))
    assert quota["remaining_today"] == 0
    second = send_now(text_message(account, title="second"), django_capture_on_commit_callbacks)
    assert second.status == S.FAILED
    assert second.errcode == 45028
    assert "45028" in second.last_error and "没有群发配额" in second.last_error and "No mass-send quota" in second.last_error
    assert deliveries(app).count() == 2


def test_the_monthly_limit_adds_all_tag_and_list_sends_per_follower(account, sandbox_app):
    tag = make_tag(account)
    ids = make_followers(account, sandbox_app, 2, tag=tag) + make_followers(account, sandbox_app, 2, start=2)

    def sent(audience, index, **batch):
        earlier = text_message(account, title=f"earlier {index}", audience=audience, tag=tag, openids=ids[:2])
        MassBatchFactory(
            message=earlier,
            index=0,
            clientmsgid=f"c{index}",
            status=MassBatch.Status.SUBMITTED,
            submitted_at=timezone.now(),
            **batch,
        )

    sent("tag", 1, tag_wechat_id=tag.wechat_id)
    sent("tag", 2, tag_wechat_id=tag.wechat_id)
    sent("all", 3)
    sent("openids", 4, openids=[ids[0], ids[2]])
    # This month: ids[0] 2 + 1 + 1 = 4 (at the limit), ids[1] 3, ids[2] 2, ids[3] 1.
    for audience, fields, at_limit in [
        ("all", {}, 1),
        ("tag", {"tag": tag}, 1),
        ("openids", {"openids": ids[:3]}, 1),
        ("filter", {"follower_filter": {"tag": tag.pk}}, 1),
    ]:
        message = text_message(account, title=f"next {audience}", audience=audience, **fields)
        assert mass_selectors.mass_quota_for(message=message)["at_limit"] == at_limit, audience
    sent("openids", 5, openids=[ids[1], ids[3]])
    assert mass_selectors.mass_quota_for(message=text_message(account, title="last"))["at_limit"] == 2


def test_subscription_account_may_not_send_to_an_openid_list(make_account):
    account = make_account(account_type="subscription")
    with pytest.raises(ValidationError) as exc:
        text_message(account, audience="openids", openids=[openid(1), openid(2)])
    assert "audience" in exc.value.message_dict


def test_service_account_followers_over_four_a_month_are_filtered(account, sandbox_app, django_capture_on_commit_callbacks):
    ids = make_followers(account, sandbox_app, 3)
    for n in range(4):
        previous = send_now(
            text_message(account, title=f"earlier {n}", audience="openids", openids=ids[:2]), django_capture_on_commit_callbacks
        )
        assert previous.status == S.SENT
    message = text_message(account, title="fifth")
    quota = mass_selectors.mass_quota_for(message=message)
    assert (quota["audience_size"], quota["at_limit"], quota["will_receive"]) == (3, 2, 1)
    message = send_now(message, django_capture_on_commit_callbacks)
    batch = message.batches.get()
    assert (batch.total_count, batch.filter_count, batch.sent_count) == (3, 1, 1)
    assert deliveries(sandbox_app).filter(msg_id=batch.msg_id).count() == 1


def test_blacklisted_followers_count_as_errors(account, sandbox_app, django_capture_on_commit_callbacks):
    make_followers(account, sandbox_app, 2)
    make_followers(account, sandbox_app, 1, start=10, blacklisted=True)
    message = send_now(text_message(account), django_capture_on_commit_callbacks)
    batch = message.batches.get()
    assert (batch.total_count, batch.filter_count, batch.sent_count, batch.error_count) == (3, 3, 2, 1)


def test_unverified_account_gets_48001_and_a_clear_message(make_account, django_capture_on_commit_callbacks):
    account = make_account(verified=False)
    make_followers(account, account_app(account), 2)
    message = send_now(text_message(account), django_capture_on_commit_callbacks)
    assert message.status == S.FAILED
    batch = message.batches.get()
    assert batch.errcode == 48001
    assert "接口未授权" in batch.error_display and "unauthorised" in batch.error_display


def test_unknown_article_is_40007_and_nothing_is_sent(account, sandbox_app, django_capture_on_commit_callbacks):
    make_followers(account, sandbox_app, 2)
    message = mass.mass_message_create(
        account=account, title="Article", msgtype="mpnews", media_id="unpublished-draft", audience="all"
    )
    message = send_now(message, django_capture_on_commit_callbacks)
    assert message.status == S.FAILED
    assert message.errcode == 40007
    assert "已过期或不存在" in message.last_error
    assert not deliveries(sandbox_app).exists()
    assert message.batches.get().attempts == 1  # permanent: not retried


def test_unknown_openid_in_a_batch_fails_that_batch_only(account, sandbox_app, django_capture_on_commit_callbacks, monkeypatch):
    ids = make_followers(account, sandbox_app, 4)
    monkeypatch.setattr("messaging.mass.services.dispatch.BATCH_SIZE", 2)
    message = text_message(account, audience="openids", openids=[*ids, openid(999), openid(998)])
    with django_capture_on_commit_callbacks(execute=True):
        mass.mass_message_schedule(message=message)
    message.refresh_from_db()
    assert message.status == S.PARTIALLY_FAILED
    assert [b.status for b in message.batches.order_by("index")] == ["finished", "finished", "failed"]
    assert message.batches.order_by("index").last().errcode == 40003
    assert deliveries(sandbox_app).count() == 4


def test_same_clientmsgid_twice_is_45065_with_the_first_msg_id(account, sandbox_app):
    make_followers(account, sandbox_app, 2)
    send = {"account": account, "message": Text("CONTENT"), "target": ToAll(), "clientmsgid": "send-2024-05-01-all-text-1"}
    first = mass_api.mass_send(**send)
    again = mass_api.mass_send(**send)
    assert (first.duplicate, again.duplicate) == (False, True)
    assert again.msg_id == first.msg_id
    assert list(SandboxCall.objects.filter(api=Endpoint.MASS_SENDALL.path).values_list("errcode", flat=True)) == [0, 45065]
    assert deliveries(sandbox_app).count() == 2


def test_tag_deleted_between_scheduling_and_sending_fails_clearly(account, sandbox_app):
    tag = make_tag(account)
    make_followers(account, sandbox_app, 2, tag=tag)
    message = text_message(account, audience="tag", tag=tag)
    mass.mass_message_schedule(message=message, at=timezone.now() + timedelta(minutes=5))
    tag.delete()
    mass.mass_dispatch_due(now=timezone.now() + timedelta(minutes=6))
    message.refresh_from_db()
    assert message.status == S.FAILED
    assert "tag was deleted" in message.last_error
    assert not SandboxCall.objects.filter(api=Endpoint.MASS_SENDALL.path).exists()


def test_tag_unknown_to_wechat_is_45159(account, sandbox_app, django_capture_on_commit_callbacks):
    tag = make_tag(account, wechat_id=777)
    message = send_now(text_message(account, audience="tag", tag=tag), django_capture_on_commit_callbacks)
    assert message.status == S.FAILED
    assert message.batches.get().errcode == 45159


def test_empty_filter_audience_fails_without_calling_wechat(account, sandbox_app, django_capture_on_commit_callbacks):
    make_followers(account, sandbox_app, 2)
    message = text_message(account, audience="filter", follower_filter={"subscribe_scene": "ADD_SCENE_NOBODY"})
    message = send_now(message, django_capture_on_commit_callbacks)
    assert message.status == S.FAILED
    assert "audience is empty" in message.last_error
    assert not SandboxCall.objects.exists()


def test_filter_audience_resolves_followers_at_send_time(account, sandbox_app, django_capture_on_commit_callbacks):
    ids = make_followers(account, sandbox_app, 3)
    Follower.objects.filter(openid=ids[0]).update(subscribe_scene="ADD_SCENE_QR_CODE")
    Follower.objects.filter(openid=ids[1]).update(subscribe_scene="ADD_SCENE_QR_CODE")
    message = send_now(
        text_message(account, audience="filter", follower_filter={"subscribe_scene": "ADD_SCENE_QR_CODE"}),
        django_capture_on_commit_callbacks,
    )
    assert message.status == S.SENT
    assert sorted(message.batches.get().openids) == sorted(ids[:2])


def test_quota_exhausted_45009_fails_without_retry(account, sandbox_app, django_capture_on_commit_callbacks):
    make_followers(account, sandbox_app, 2)
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.MASS_SENDALL.path, kind="errcode", value=45009, remaining=1)
    message = send_now(text_message(account), django_capture_on_commit_callbacks)
    assert message.status == S.FAILED
    assert message.errcode == 45009
    assert message.batches.get().attempts == 1


def test_job_finish_sample_updates_the_batch(client, account, django_capture_on_commit_callbacks):
    message = text_message(account, msgtype="mpnews", media_id="x", content="")
    MassMessage.objects.filter(pk=message.pk).update(status=S.SENDING)
    batch = MassBatchFactory(
        message=message,
        index=0,
        clientmsgid="c1",
        status=MassBatch.Status.SUBMITTED,
        msg_id="1000001625",
        submitted_at=timezone.now(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        post_callback(client, account, sample_text("inbound/event_masssendjobfinish.xml"))
    batch.refresh_from_db()
    message.refresh_from_db()
    assert batch.job_status == "err(30003)"
    assert batch.status == MassBatch.Status.FAILED
    assert "30003" in batch.errmsg and "转载" in batch.errmsg
    assert (batch.total_count, batch.filter_count, batch.sent_count, batch.error_count) == (0, 0, 0, 0)
    assert batch.check_state == 2
    assert [r["ArticleIdx"] for r in batch.copyright_results] == ["1", "2"]
    assert batch.article_urls == [{"ArticleIdx": "1", "ArticleUrl": "Url"}]
    assert message.status == S.FAILED


def test_job_finish_for_an_unknown_msg_id_changes_nothing(client, account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_callback(client, account, sample_text("inbound/event_masssendjobfinish.xml"))
    assert response.status_code == 200
    assert not MassBatch.objects.exists()


def test_cancel_before_the_time_stops_the_send(account, sandbox_app, django_capture_on_commit_callbacks):
    make_followers(account, sandbox_app, 2)
    message = text_message(account)
    mass.mass_message_schedule(message=message, at=timezone.now() + timedelta(hours=1))
    mass.mass_message_cancel(message=message, reason="wrong text")
    with django_capture_on_commit_callbacks(execute=True):
        mass.mass_dispatch_due(now=timezone.now() + timedelta(hours=2))
    message.refresh_from_db()
    assert message.status == S.CANCELLED
    assert message.events.filter(new_status="cancelled", reason="wrong text").exists()
    assert not deliveries(sandbox_app).exists()


def test_cannot_cancel_once_sent(account, sandbox_app, django_capture_on_commit_callbacks):
    make_followers(account, sandbox_app, 2)
    message = send_now(text_message(account), django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError):
        mass.mass_message_cancel(message=message)
    message.refresh_from_db()
    assert message.status == S.SENT


def test_changing_the_time_moves_the_send(account, sandbox_app, django_capture_on_commit_callbacks):
    make_followers(account, sandbox_app, 2)
    message = text_message(account)
    now = timezone.now()
    mass.mass_message_schedule(message=message, at=now + timedelta(minutes=10))
    mass.mass_message_schedule(message=message, at=now + timedelta(hours=3))
    with django_capture_on_commit_callbacks(execute=True):
        assert mass.mass_dispatch_due(now=now + timedelta(minutes=11))["started"] == 0
        assert mass.mass_dispatch_due(now=now + timedelta(hours=3, minutes=1))["started"] == 1
    message.refresh_from_db()
    assert message.status == S.SENT


def test_scheduled_send_waits_for_the_beat(account, sandbox_app, django_capture_on_commit_callbacks):
    make_followers(account, sandbox_app, 2)
    message = text_message(account)
    with django_capture_on_commit_callbacks(execute=True):
        mass.mass_message_schedule(message=message, at=timezone.now() + timedelta(minutes=2))
        mass.mass_dispatch_due()
    message.refresh_from_db()
    assert message.status == S.SCHEDULED
    assert not deliveries(sandbox_app).exists()


def test_recurring_send_creates_a_new_message_per_run(account, sandbox_app, django_capture_on_commit_callbacks):
    from django_celery_beat.models import PeriodicTask

    from messaging.mass.tasks import mass_message_recur

    make_followers(account, sandbox_app, 2)
    template = text_message(account, title="Monday digest")
    task = mass.mass_message_recurrence_set(message=template, minute="0", hour="9", day_of_week="1")
    assert PeriodicTask.objects.get(pk=task.pk).crontab.day_of_week == "1"
    assert task.task == "messaging.mass_tasks.mass_message_recur"
    with django_capture_on_commit_callbacks(execute=True):
        mass_message_recur.delay(template.pk)
        mass_message_recur.delay(template.pk)
    runs = list(MassMessage.objects.filter(cloned_from=template))
    assert len(runs) == 2
    assert all(r.status == S.SENT for r in runs)
    cids = set(MassBatch.objects.filter(message__in=runs).values_list("clientmsgid", flat=True))
    assert len(cids) == 2
    assert deliveries(sandbox_app).count() == 4
    template.refresh_from_db()
    assert template.status == S.DRAFT


def test_recurrence_rejects_a_bad_crontab(account):
    template = text_message(account)
    with pytest.raises(ValidationError):
        mass.mass_message_recurrence_set(message=template, minute="99", hour="9")


def test_validation_errors_are_clear_and_save_nothing(account):
    cases = [
        ({"msgtype": "text", "content": "  "}, "content"),
        ({"msgtype": "image", "media_ids": []}, "media_ids"),
        ({"msgtype": "mpnews", "media_id": ""}, "media_id"),
        ({"msgtype": "wxcard"}, "card_id"),
        ({"audience": "tag"}, "tag"),
        ({"audience": "openids", "openids": [openid(1)]}, "openids"),
        ({"audience": "openids", "openids": ["not an openid!", openid(2)]}, "openids"),
        ({"audience": "filter", "follower_filter": {"colour": "red"}}, "follower_filter"),
    ]
    for fields, field in cases:
        with pytest.raises(ValidationError) as exc:
            text_message(account, **fields)
        assert field in exc.value.message_dict, fields
    assert not MassMessage.objects.exists()


def test_unsynced_tag_is_refused(account):
    tag = TagFactory(account=account, name="local only")
    with pytest.raises(ValidationError) as exc:
        text_message(account, audience="tag", tag=tag)
    assert "not synced" in str(exc.value.message_dict["tag"])


def test_openids_parse_accepts_csv_and_pasted_lists():
    csv_bytes = f"openid,name\n{openid(1)},a\n{openid(2)},b\n{openid(1)},dup\n".encode()
    valid, invalid = mass.openids_parse(f"{openid(3)}, {openid(2)}\n bad!id", csv_bytes=csv_bytes)
    assert valid == [openid(3), openid(2), openid(1)]
    assert invalid == ["bad!id"]


def test_preview_reaches_the_operator_only(account, sandbox_app):
    ids = make_followers(account, sandbox_app, 3)
    message = text_message(account)
    results = mass.mass_message_preview(message=message, openids=[ids[0], openid(900)])
    assert results[0] == (ids[0], None)
    assert results[1][1].errcode == 40003
    assert list(deliveries(sandbox_app, "preview").values_list("openid", flat=True)) == [ids[0]]
    assert not deliveries(sandbox_app).exists()
    call = SandboxCall.objects.filter(api=Endpoint.MASS_PREVIEW.path).first()
    assert set(call.request_json) == set(sample_json("api/mass_preview_request_text.json"))
    assert MassMessageEvent.objects.filter(message=message, reason__contains="preview").exists()


def test_poll_fallback_finishes_batches_without_an_event(account, sandbox_app, django_capture_on_commit_callbacks):
    make_followers(account, sandbox_app, 2)
    message = text_message(account)
    with django_capture_on_commit_callbacks(execute=False):  # the sandbox's job-finish push never runs
        mass.mass_message_schedule(message=message)
    mass.mass_message_dispatch(message_id=message.pk)
    with django_capture_on_commit_callbacks(execute=False):
        mass.mass_batch_send(batch_id=message.batches.get().pk)
    batch = message.batches.get()
    assert batch.status == MassBatch.Status.SUBMITTED
    assert mass.mass_batches_poll() == 0  # too recent
    later = timezone.now() + timedelta(minutes=31)
    assert mass.mass_batches_poll(now=later) == 1
    batch.refresh_from_db()
    assert batch.msg_status == "SENDING"
    from sandbox.endpoints.mass import mass_job_finish

    job = SandboxDelivery.objects.get(channel="mass_job")
    SandboxDelivery.objects.filter(pk=job.pk).update(payload={**job.payload, "status": "SEND_SUCCESS"})
    assert mass.mass_batches_poll(now=later + timedelta(minutes=31)) == 1
    batch.refresh_from_db()
    assert (batch.msg_status, batch.status) == ("SEND_SUCCESS", MassBatch.Status.FINISHED)
    assert sample_json("api/message_mass_get_response.json").keys() == {"msg_id", "msg_status"}
    assert mass_job_finish(job.pk) is None  # already reported: no second push


def test_delete_of_a_sent_article(account, sandbox_app):
    message = mass.mass_message_create(account=account, title="Article", msgtype="mpnews", media_id="draft-1", audience="all")
    job = SandboxDelivery.objects.create(
        app=sandbox_app, channel="mass_job", msgtype="mpnews", msg_id="1000000777", payload={"status": "SEND_SUCCESS"}
    )
    MassMessage.objects.filter(pk=message.pk).update(status=S.SENT)
    MassBatchFactory(message=message, index=0, clientmsgid="d1", status=MassBatch.Status.FINISHED, msg_id=job.msg_id)
    message.refresh_from_db()
    assert mass.mass_message_delete_article(message=message, article_idx=2) == 1
    assert mass.mass_message_delete_article(message=message) == 1
    job.refresh_from_db()
    assert job.payload["deleted_idx"] == [2]
    assert job.payload["status"] == "DELETE"
    assert message.batches.get().deleted_at is not None
    call = SandboxCall.objects.filter(api=Endpoint.MASS_DELETE.path).first()
    assert set(call.request_json) == set(sample_json("api/message_mass_delete_request.json"))
    with pytest.raises(ValidationError):
        mass.mass_message_delete_article(message=text_message(account))


def test_speed_get_and_set(account, sandbox_app):
    assert set(asdict(mass.mass_speed_get(account=account))) == set(sample_json("api/message_mass_speed_get_response.json"))
    mass.mass_speed_set(account=account, speed=sample_json("api/mass_speed_set_request.json")["speed"])
    assert mass.mass_speed_get(account=account) == MassSpeed(speed=1, realspeed=60)
    with pytest.raises(ValidationError):
        mass.mass_speed_set(account=account, speed=7)


def test_resending_a_rejected_batch_uses_a_new_clientmsgid_skips_accepted_ones_and_delivers_once(
    account, sandbox_app, django_capture_on_commit_callbacks, monkeypatch
):
    ids = make_followers(account, sandbox_app, 4)
    monkeypatch.setattr("messaging.mass.services.dispatch.BATCH_SIZE", 2)
    SandboxFollower.objects.filter(openid=ids[3]).delete()  # WeChat does not know this one: its batch fails with 40003
    message = send_now(text_message(account, audience="openids", openids=ids), django_capture_on_commit_callbacks)
    assert message.status == S.PARTIALLY_FAILED
    failed = message.batches.get(status="failed")
    old_cid = failed.clientmsgid
    SandboxFollowerFactory(app=sandbox_app, openid=ids[3])
    with django_capture_on_commit_callbacks(execute=True):
        assert mass.mass_message_resend(message=message) == {"rejected": 1, "same_id": 0, "past_window": 0}
    message.refresh_from_db()
    failed.refresh_from_db()
    assert message.status == S.SENT
    assert message.version == 2
    assert failed.clientmsgid != old_cid and "v2" in failed.clientmsgid
    assert deliveries(sandbox_app).count() == 4
    assert sorted(deliveries(sandbox_app).values_list("openid", flat=True)) == sorted(ids)  # each follower once
    with pytest.raises(ValidationError):
        mass.mass_message_resend(message=message)


def test_recurring_template_cannot_be_sent_itself_and_its_task_goes_with_it(account):
    from django_celery_beat.models import PeriodicTask

    template = text_message(account)
    mass.mass_message_recurrence_set(message=template, minute="0", hour="9", day_of_week="1")
    with pytest.raises(ValidationError):
        mass.mass_message_schedule(message=template)
    template.delete()
    assert not PeriodicTask.objects.filter(task=mass.RECURRING_TASK).exists()


def test_sandbox_seed_adds_one_demo_draft(account, sandbox_app):
    from sandbox.seeders.mass import sandbox_mass_seed
    from sandbox.seeding import SEEDERS

    assert sandbox_mass_seed in SEEDERS
    sandbox_mass_seed(account=account, app=sandbox_app)
    sandbox_mass_seed(account=account, app=sandbox_app)
    assert MassMessage.objects.filter(account=account, status="draft").count() == 1


def test_payloads_of_every_type_follow_the_documented_shapes(account):
    def payload(message):
        return mass_payload(mass_selectors.message_value(message), send_ignore_reprint=message.send_ignore_reprint)

    images = MassMessage(
        account=account, msgtype="image", media_ids=["aaa", "bbb", "ccc"], recommend="xxx", need_open_comment=True
    )
    sample = sample_json("api/mass_sendall_request_images.json")
    assert payload(images) == {"msgtype": sample["msgtype"], "images": sample["images"]}
    article = MassMessage(account=account, msgtype="mpnews", media_id="123dsdajkasd231jhksad")
    sample = sample_json("api/mass_sendall_request_mpnews_by_tag.json")
    assert payload(article) == {k: sample[k] for k in ("msgtype", "mpnews", "send_ignore_reprint")}
    assert payload(MassMessage(msgtype="voice", media_id="v")) == {"msgtype": "voice", "voice": {"media_id": "v"}}
    video = MassMessage(msgtype="mpvideo", media_id="m", video_title="T")
    assert payload(video) == {"msgtype": "mpvideo", "mpvideo": {"media_id": "m", "title": "T"}}
    assert payload(MassMessage(msgtype="wxcard", card_id="c")) == {"msgtype": "wxcard", "wxcard": {"card_id": "c"}}

"""Group template pushes (定时模板消息推送): audience expansion, batches, crash recovery, scheduling, stop on quota."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils import timezone

from followers.models import Follower
from messaging.inbound.models import InboundMessage
from messaging.templatemsg import services
from messaging.templatemsg.models import TemplateMessage, TemplatePush
from messaging.templatemsg.services import dispatch as sending
from sandbox.models import SandboxDelivery, SandboxFollower, SandboxQuota, SandboxTemplateReceiver
from sandbox.tests.factories import SandboxFaultFactory
from wechat.api.endpoints import Endpoint

from .template_support import ORDER_DATA, _template_settings, add_followers, make_tag, seed_template  # noqa: F401

Status = TemplateMessage.Status
PushStatus = TemplatePush.Status
SEND_API = Endpoint.TEMPLATE_SEND.path


@pytest.fixture
def template(account, sandbox_app):
    return seed_template(sandbox_app, account)


@pytest.fixture
def tag(account):
    return make_tag(account)


def deliveries_per_openid(app) -> Counter:
    return Counter(SandboxDelivery.objects.filter(app=app, channel="template").values_list("openid", flat=True))


def create_push(account, template, capture, **extra):
    extra.setdefault("audience", TemplatePush.Audience.TAG)
    with capture(execute=True):
        push = services.template_push_create(account=account, name="双十一", template=template, data=ORDER_DATA, **extra)
    push.refresh_from_db()
    return push


def test_push_to_a_tag_reaches_every_subscribed_member_exactly_once(
    account, sandbox_app, template, tag, django_capture_on_commit_callbacks
):
    members = add_followers(account, sandbox_app, 250, tag=tag)
    add_followers(account, sandbox_app, 5, prefix="oUntagged")
    add_followers(account, sandbox_app, 3, tag=tag, prefix="oGone", subscribed=False)

    push = create_push(account, template, django_capture_on_commit_callbacks, tag=tag)

    per_openid = deliveries_per_openid(sandbox_app)
    assert set(per_openid) == set(members)
    assert set(per_openid.values()) == {1}
    assert push.status == PushStatus.SENT
    assert (push.total, push.sent_count, push.success_count, push.failed_count) == (250, 250, 250, 0)
    assert push.finished_at is not None
    assert TemplateMessage.objects.filter(push=push, status=Status.SUCCESS).count() == 250
    ids = list(TemplateMessage.objects.filter(push=push).values_list("client_msg_id", flat=True))
    assert len(set(ids)) == 250 and all(len(i) <= 32 and i.isascii() for i in ids)


def test_push_to_all_and_to_an_openid_list(account, sandbox_app, template, django_capture_on_commit_callbacks):
    everyone = add_followers(account, sandbox_app, 12)
    push_all = create_push(account, template, django_capture_on_commit_callbacks, audience=TemplatePush.Audience.ALL)
    assert push_all.total == 12 and push_all.status == PushStatus.SENT
    listed = create_push(
        account,
        template,
        django_capture_on_commit_callbacks,
        audience=TemplatePush.Audience.OPENIDS,
        openids=[everyone[0], everyone[1], everyone[0], " "],
    )
    assert listed.total == 2
    assert deliveries_per_openid(sandbox_app)[everyone[0]] == 2  # one per push


def test_pushes_skip_blacklisted_followers_as_mass_sends_do(
    account, sandbox_app, template, tag, django_capture_on_commit_callbacks
):
    members = add_followers(account, sandbox_app, 4, tag=tag)
    others = add_followers(account, sandbox_app, 2, prefix="oOther")
    Follower.objects.filter(account=account, openid__in=[members[0], others[0]]).update(blacklisted=True)

    to_tag = create_push(account, template, django_capture_on_commit_callbacks, tag=tag)
    to_all = create_push(account, template, django_capture_on_commit_callbacks, audience=TemplatePush.Audience.ALL)

    assert (to_tag.total, to_all.total) == (3, 4)
    reached = deliveries_per_openid(sandbox_app)
    assert members[0] not in reached and others[0] not in reached
    assert reached[members[1]] == 2 and reached[others[1]] == 1


def test_expansion_is_idempotent(account, sandbox_app, template, tag):
    add_followers(account, sandbox_app, 30, tag=tag)
    push = services.template_push_create(account=account, name="x", template=template, data=ORDER_DATA, audience="tag", tag=tag)
    TemplatePush.objects.filter(pk=push.pk).update(status=PushStatus.SENDING)
    services.template_push_expand(push=push)
    TemplatePush.objects.filter(pk=push.pk).update(expanded=False)
    push.refresh_from_db()
    assert services.template_push_expand(push=push) == 30
    assert TemplateMessage.objects.filter(push=push).count() == 30


class WorkerKilled(Exception):
    pass


def test_resume_after_a_crash_mid_push_sends_no_duplicates(
    account, sandbox_app, template, tag, monkeypatch, django_capture_on_commit_callbacks
):
    members = add_followers(account, sandbox_app, 150, tag=tag)
    real_send_all = sending.send_all
    batches = {"n": 0}

    def crash_in_third_batch(**kwargs):
        batches["n"] += 1
        if batches["n"] != 3:
            return real_send_all(**kwargs)
        items = list(kwargs.pop("items"))
        real_send_all(items=items[:20], **kwargs)  # 20 reach WeChat, then the worker dies before recording them
        raise WorkerKilled

    monkeypatch.setattr(sending, "send_all", crash_in_third_batch)
    with pytest.raises(WorkerKilled), django_capture_on_commit_callbacks(execute=True):
        push = services.template_push_create(
            account=account, name="x", template=template, data=ORDER_DATA, audience="tag", tag=tag
        )
    push.refresh_from_db()
    assert push.status == PushStatus.SENDING
    assert sum(deliveries_per_openid(sandbox_app).values()) == 120  # two batches of 50, then 20 before the crash
    assert TemplateMessage.objects.filter(push=push, status=Status.SENDING).count() == 50

    # Beat notices the silent push once its claims are stale, and carries on.
    monkeypatch.setattr(sending, "send_all", real_send_all)
    old = timezone.now() - timedelta(minutes=15)
    TemplatePush.objects.filter(pk=push.pk).update(heartbeat_at=old)
    TemplateMessage.objects.filter(push=push, status=Status.SENDING).update(claimed_at=old)
    with django_capture_on_commit_callbacks(execute=True):
        services.template_pushes_dispatch_due()

    per_openid = deliveries_per_openid(sandbox_app)
    assert set(per_openid) == set(members)
    assert set(per_openid.values()) == {1}
    push.refresh_from_db()
    assert push.status == PushStatus.SENT
    assert push.sent_count == 150


def test_cancel_before_start_sends_nothing_and_cannot_cancel_after(
    account, sandbox_app, template, tag, django_capture_on_commit_callbacks
):
    add_followers(account, sandbox_app, 5, tag=tag)
    later = timezone.now() + timedelta(hours=1)
    push = create_push(account, template, django_capture_on_commit_callbacks, tag=tag, scheduled_at=later)
    assert push.status == PushStatus.SCHEDULED
    assert services.template_push_cancel(push=push) is True
    TemplatePush.objects.filter(pk=push.pk).update(scheduled_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.template_pushes_dispatch_due() == 0
    assert not SandboxDelivery.objects.exists()

    started = create_push(account, template, django_capture_on_commit_callbacks, tag=tag)
    assert started.status == PushStatus.SENT
    assert services.template_push_cancel(push=started) is False


def test_a_scheduled_push_waits_for_its_time_then_beat_starts_it(
    account, sandbox_app, template, tag, django_capture_on_commit_callbacks
):
    add_followers(account, sandbox_app, 4, tag=tag)
    push = create_push(
        account, template, django_capture_on_commit_callbacks, tag=tag, scheduled_at=timezone.now() + timedelta(minutes=30)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.template_pushes_dispatch_due() == 0
    assert not SandboxDelivery.objects.exists()
    TemplatePush.objects.filter(pk=push.pk).update(scheduled_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.template_pushes_dispatch_due() == 1
    assert sum(deliveries_per_openid(sandbox_app).values()) == 4


def test_busy_minus_one_is_retried_within_the_batch(account, sandbox_app, template, tag, django_capture_on_commit_callbacks):
    members = add_followers(account, sandbox_app, 20, tag=tag)
    SandboxFaultFactory(app=sandbox_app, api=SEND_API, kind="errcode", value=-1, remaining=3)
    push = create_push(account, template, django_capture_on_commit_callbacks, tag=tag)
    assert push.status == PushStatus.SENT
    assert push.failed_count == 0
    assert set(deliveries_per_openid(sandbox_app)) == set(members)
    assert TemplateMessage.objects.filter(push=push, attempts=1).count() == 20  # retried in place, same claim


def test_daily_quota_45009_stops_the_push_with_the_error_and_resume_finishes_it(
    account, sandbox_app, template, tag, django_capture_on_commit_callbacks
):
    members = add_followers(account, sandbox_app, 100, tag=tag)
    SandboxQuota.objects.create(app=sandbox_app, api=SEND_API, day=timezone.now().date(), limit=30)

    push = create_push(account, template, django_capture_on_commit_callbacks, tag=tag)

    assert push.status == PushStatus.STOPPED
    assert push.last_error.startswith("45009: ") and "Daily API quota" in push.last_error
    assert sum(deliveries_per_openid(sandbox_app).values()) == 30
    assert TemplateMessage.objects.filter(push=push, status=Status.QUEUED).count() == 70
    assert not TemplateMessage.objects.filter(push=push, status=Status.FAILED).exists()

    SandboxQuota.objects.filter(app=sandbox_app).update(limit=1000)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.template_push_resume(push_id=push.pk) is True
    push.refresh_from_db()
    assert push.status == PushStatus.SENT
    per_openid = deliveries_per_openid(sandbox_app)
    assert set(per_openid) == set(members) and set(per_openid.values()) == {1}


def test_per_follower_failures_do_not_stop_the_push(account, sandbox_app, template, tag, django_capture_on_commit_callbacks):
    members = add_followers(account, sandbox_app, 10, tag=tag)
    SandboxFollower.objects.filter(openid=members[0]).update(subscribed=False)  # unfollowed since the last sync
    SandboxTemplateReceiver.objects.create(app=sandbox_app, openid=members[1], behaviour="block")
    push = create_push(account, template, django_capture_on_commit_callbacks, tag=tag)
    assert push.status == PushStatus.SENT
    assert (push.sent_count, push.success_count, push.failed_count) == (9, 8, 2)
    failed = TemplateMessage.objects.get(push=push, openid=members[0])
    assert (failed.status, failed.errcode) == (Status.FAILED, 43004)
    assert TemplateMessage.objects.get(push=push, openid=members[1]).status == Status.FAILED_USER_BLOCK


def test_invalid_push_is_refused_and_stores_nothing(account, template, make_account):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        services.template_push_create(
            account=account, name="x", template=template, data={"thing1": "a"}, audience="tag", tag=None, rate_limit=0
        )
    errors = caught.value.message_dict
    assert {"data", "tag", "rate_limit"} <= set(errors)
    with pytest.raises(ValidationError):
        services.template_push_create(
            account=account, name="x", template=template, data=ORDER_DATA, audience="openids", openids=[]
        )
    assert not TemplatePush.objects.exists()


def test_rate_limiter_holds_the_rate(db):
    import time

    limiter = sending.RateLimiter("test-rate", 100)
    started = time.monotonic()
    for _ in range(250):
        limiter.acquire()
    # At most 100 permits per wall-clock second: 250 permits reach into a third second.
    assert time.monotonic() - started >= 1.0


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locking")
def test_sending_threads_open_no_database_connection_when_the_token_read_ages_out(account, settings, monkeypatch):
    from django.db.backends.base.base import BaseDatabaseWrapper

    from wechat import tokens
    from wechat.models import AccessToken

    settings.WECHAT_TOKEN_LOCAL_CACHE_SECONDS = 30
    value = tokens.access_token_get(account=account)
    key = (account.pk, AccessToken.Kind.ACCESS_TOKEN)
    read, usable_until, _trusted_until = tokens._recent[key]
    tokens._recent[key] = (read, usable_until, 0.0)  # every thread of the pool finds the read aged out at once
    opened, used = [], []
    connect = BaseDatabaseWrapper.connect

    def refuse_in_pool_threads(self):
        if threading.current_thread().name.startswith("tpl-send"):
            opened.append(threading.current_thread().name)
            raise RuntimeError("a sending thread opened a database connection")
        return connect(self)

    def sender(*, account, template_id, **content):
        def send(*, openid, client_msg_id=""):
            used.append(tokens.access_token_get(account=account))  # as the gateway does before each call
            return f"m-{openid}"

        return send

    monkeypatch.setattr(BaseDatabaseWrapper, "connect", refuse_in_pool_threads)
    monkeypatch.setattr(sending.templates_api, "template_sender", sender)
    results = sending.send_all(
        account=account,
        template_id="tpl",
        content={"data": {}, "url": "", "miniprogram": None},
        items=[(n, f"o{n}", f"c{n}") for n in range(40)],
        concurrency=8,
    )
    assert opened == []
    assert len(results) == 40 and set(used) == {value}


def test_two_dispatchers_claim_a_due_push_once(transactional_db, make_account, settings):
    from sandbox.models import SandboxApp

    settings.TEMPLATE_PUSH_CONCURRENCY = 4
    account = make_account()
    app = SandboxApp.objects.get(appid=account.appid)
    template = seed_template(app, account)
    tag = make_tag(account)
    members = add_followers(account, app, 20, tag=tag)
    push = services.template_push_create(
        account=account,
        name="x",
        template=template,
        data=ORDER_DATA,
        audience="tag",
        tag=tag,
        scheduled_at=timezone.now() + timedelta(hours=1),
    )
    TemplatePush.objects.filter(pk=push.pk).update(scheduled_at=timezone.now() - timedelta(seconds=1))
    barrier = threading.Barrier(2)
    started = []

    def dispatcher():
        try:
            barrier.wait()
            started.append(services.template_pushes_dispatch_due())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(started) == [0, 1]
    per_openid = deliveries_per_openid(app)
    assert set(per_openid) == set(members) and set(per_openid.values()) == {1}
    push.refresh_from_db()
    assert push.status == PushStatus.SENT


def test_results_arriving_after_the_last_batch_reach_the_totals(
    account, sandbox_app, template, tag, django_capture_on_commit_callbacks
):
    from sandbox import phone

    members = add_followers(account, sandbox_app, 3, tag=tag)
    push = create_push(account, template, django_capture_on_commit_callbacks, tag=tag)
    late = TemplateMessage.objects.get(push=push, openid=members[0])
    # As if its result were still on the way: the message is only sent, and no event has arrived yet.
    TemplateMessage.objects.filter(pk=late.pk).update(status=Status.SENT)
    InboundMessage.objects.filter(account=account, msg_id=late.msgid).delete()
    with django_capture_on_commit_callbacks(execute=True):
        services.template_pushes_dispatch_due()
        phone.push(
            sandbox_app,
            {
                "FromUserName": late.openid,
                "MsgType": "event",
                "Event": "TEMPLATESENDJOBFINISH",
                "MsgID": int(late.msgid),
                "Status": "failed:user block",
                "CreateTime": 1,
            },
        )
    assert TemplateMessage.objects.get(pk=late.pk).status == Status.FAILED_USER_BLOCK
    services.template_pushes_dispatch_due()
    push.refresh_from_db()
    assert (push.sent_count, push.success_count, push.failed_count) == (3, 2, 1)


def test_an_edit_is_validated_as_a_new_push_and_changes_nothing_when_invalid(account, sandbox_app, template):
    push = services.template_push_create(
        account=account,
        name="p",
        template=template,
        data=ORDER_DATA,
        audience="openids",
        openids=["o1"],
        scheduled_at=timezone.now() + timedelta(days=1),
    )
    before = (push.data, push.rate_limit)
    with pytest.raises(ValidationError) as refused:
        services.template_push_update(push=push, data={**ORDER_DATA, "thing1": {"value": "一" * 21}}, rate_limit=0)
    assert set(refused.value.message_dict) == {"data", "rate_limit"}
    push.refresh_from_db()
    assert (push.data, push.rate_limit) == before


def test_an_edit_never_lands_on_a_push_that_has_started(account, sandbox_app, template):
    push = services.template_push_create(
        account=account,
        name="p",
        template=template,
        data=ORDER_DATA,
        audience="openids",
        openids=["o1"],
        scheduled_at=timezone.now() + timedelta(days=1),
    )
    TemplatePush.objects.filter(pk=push.pk).update(status=PushStatus.SENDING)  # a worker claimed it meanwhile
    with pytest.raises(services.PushStarted):
        services.template_push_update(push=push, name="改名", openids=["o1", "o2"])
    push.refresh_from_db()
    assert (push.name, push.openids, push.status) == ("p", ["o1"], PushStatus.SENDING)


def test_an_edit_that_makes_a_push_due_starts_it(account, sandbox_app, template, django_capture_on_commit_callbacks):
    openids = add_followers(account, sandbox_app, 2)
    push = services.template_push_create(
        account=account,
        name="p",
        template=template,
        data=ORDER_DATA,
        audience="openids",
        openids=openids[:1],
        scheduled_at=timezone.now() + timedelta(days=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.template_push_update(push=push, openids=openids, scheduled_at=timezone.now())
    push.refresh_from_db()
    assert (push.status, push.total) == (PushStatus.SENT, 2)

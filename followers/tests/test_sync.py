"""Full follower sync against the sandbox: counts, fields, tags, unsubscribes, resume, refusals and errors."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from conftest import sample_json
from followers.models import Follower, SyncJob, Tag
from followers.services import sync, sync_rows
from followers.tests.factories import FollowerFactory, SyncJobFactory, TagFactory
from sandbox.generator import followers_generate, openid_for
from sandbox.models import SandboxCall, SandboxFollower
from sandbox.tests.factories import SandboxFaultFactory, SandboxFollowerFactory
from wechat.api.endpoints import Endpoint

N = 25_000
SMALL = 3_000


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch):
    monkeypatch.setattr(sync, "IN_PROCESS", replace(sync.IN_PROCESS, base=0))


@pytest.fixture
def generated(sandbox_app):
    """25,000 followers: three pages of user/get."""
    followers_generate(app=sandbox_app, n=N)
    return sandbox_app


@pytest.fixture
def small(sandbox_app):
    """3,000 followers: one page, two chunks."""
    followers_generate(app=sandbox_app, n=SMALL)
    return sandbox_app


def calls(endpoint: Endpoint, **filters) -> int:
    return SandboxCall.objects.filter(api=endpoint.value.path, **filters).count()


def test_full_sync_of_25000_followers_across_three_pages(account, generated):
    job = sync.follower_sync_all(account=account)

    assert (job.status, job.total, job.done, job.failed) == (SyncJob.Status.SUCCEEDED, N, N, 0)
    assert job.errcode is None and job.finished_at is not None
    assert Follower.objects.filter(account=account, subscribed=True).count() == N
    # Three pages of 10,000 / 10,000 / 5,000, then the empty page that ends the list; 100 openids per batchget.
    assert calls(Endpoint.USER_GET, errcode=0) == 4
    assert calls(Endpoint.USER_INFO_BATCHGET, errcode=0) == N // 100
    sizes = [len(c.request_json["user_list"]) for c in SandboxCall.objects.filter(api=Endpoint.USER_INFO_BATCHGET.path)]
    assert set(sizes) == {100}


def test_synced_fields_equal_wechats(account, small):
    sync.follower_sync_all(account=account)

    tags = dict(Tag.objects.filter(account=account).values_list("id", "wechat_id"))
    openids = [openid_for(small.appid, i) for i in range(0, SMALL, 11)]
    remote = {f.openid: f for f in SandboxFollower.objects.filter(app=small, openid__in=openids)}
    local = Follower.objects.filter(account=account, openid__in=openids).prefetch_related("tags")
    assert len(local) == len(remote) == len(openids)
    for follower in local:
        wx = remote[follower.openid]
        assert follower.subscribed and follower.synced_at is not None
        assert follower.subscribe_time == datetime.fromtimestamp(wx.subscribe_time, tz=UTC)
        assert follower.subscribe_scene == wx.subscribe_scene
        assert follower.language == wx.language
        assert follower.unionid == wx.unionid
        assert follower.remark == wx.remark
        assert follower.qr_scene == (wx.qr_scene_str or (str(wx.qr_scene) if wx.qr_scene else ""))
        assert sorted(tags[t.pk] for t in follower.tags.all()) == sorted(wx.tagids)
    memberships = Follower.tags.through.objects.filter(follower__account=account).count()
    assert memberships == sum(len(t) for t in SandboxFollower.objects.filter(app=small).values_list("tagids", flat=True))
    assert Follower.objects.filter(account=account).exclude(unionid="").count() == remote_count(small, unionid__gt="")


def remote_count(app, **filters) -> int:
    return SandboxFollower.objects.filter(app=app, **filters).count()


def test_unknown_wechat_tag_ids_get_placeholder_tags_then_wechats_names(account, small):
    sync.follower_sync_all(account=account)

    names = dict(Tag.objects.filter(account=account).values_list("wechat_id", "name"))
    # Placeholders ("tag 100") were renamed by the tags pull that follows the sync.
    assert names == {2: "星标组", 100: "星标客户 VIP", 101: "广东", 102: "新用户"}


def test_existing_tags_are_mapped_by_wechat_id_and_stale_memberships_removed(account, small):
    vip = TagFactory(account=account, wechat_id=100, name="VIP")
    local_only = TagFactory(account=account, name="local only")
    first = SandboxFollower.objects.filter(app=small, tagids=[]).order_by("id").first()
    mine = FollowerFactory(account=account, openid=first.openid)
    mine.tags.add(vip, local_only)

    sync.follower_sync_all(account=account)

    assert Tag.objects.filter(account=account, wechat_id=100).get().pk == vip.pk
    # WeChat says no tags: the WeChat tag is removed, the local-only tag is ours and stays.
    assert list(mine.tags.all()) == [local_only]
    assert vip.followers.count() == sum(
        100 in t for t in SandboxFollower.objects.filter(app=small).values_list("tagids", flat=True)
    )


def test_followers_wechat_no_longer_lists_are_marked_unsubscribed(account, sandbox_app):
    followers_generate(app=sandbox_app, n=300)
    sync.follower_sync_all(account=account)
    gone = list(SandboxFollower.objects.filter(app=sandbox_app).order_by("id").values_list("openid", flat=True)[:7])
    SandboxFollower.objects.filter(app=sandbox_app, openid__in=gone).update(subscribed=False)
    local_only = FollowerFactory(account=account, openid="o" + "x" * 27, subscribe_time=timezone.now() - timedelta(days=3))

    job = sync.follower_sync_all(account=account)

    assert (job.status, job.total, job.done) == (SyncJob.Status.SUCCEEDED, 293, 293)
    unsubscribed = set(Follower.objects.filter(account=account, subscribed=False).values_list("openid", flat=True))
    assert unsubscribed == {*gone, local_only.openid}
    assert not Follower.objects.filter(account=account, subscribed=False, unsubscribed_at__isnull=True).exists()
    assert Follower.objects.filter(account=account, subscribed=True).count() == 293


def test_a_follow_during_the_sync_is_not_marked_unsubscribed(account, sandbox_app):
    followers_generate(app=sandbox_app, n=50)
    job = sync.follower_sync_start(account=account, enqueue=False)
    SyncJob.objects.filter(pk=job.pk).update(started_at=timezone.now() - timedelta(minutes=1))
    newcomer = FollowerFactory(account=account, openid="o" + "n" * 27, subscribe_time=timezone.now())

    sync.follower_sync_run(job_id=job.pk)

    newcomer.refresh_from_db()
    assert newcomer.subscribed


def test_a_crashed_sync_resumes_from_its_cursor(account, generated, monkeypatch):
    class WorkerKilled(BaseException):
        """Stands for SIGKILL: no except-block of the product sees it."""

    real_store = sync.followers_store
    stored = {"chunks": 0}

    def store_then_die(**kwargs):
        stored["chunks"] += 1
        if stored["chunks"] == 7:  # the 7th chunk of 2,000: page 2, offset 2,000
            raise WorkerKilled()
        return real_store(**kwargs)

    monkeypatch.setattr(sync, "followers_store", store_then_die)
    with pytest.raises(WorkerKilled):
        sync.follower_sync_all(account=account)
    monkeypatch.setattr(sync, "followers_store", real_store)

    job = SyncJob.objects.get()
    assert job.status == SyncJob.Status.RUNNING
    assert (job.done, job.page_offset) == (12_000, 2_000)
    first_page_last = SandboxCall.objects.filter(api=Endpoint.USER_GET.path).order_by("id")[1].request_json["next_openid"]
    assert job.page_token == first_page_last
    assert Follower.objects.filter(account=account).count() == 12_000

    # While the dead worker's lease lasts, nobody may start another sync.
    with pytest.raises(sync.SyncAlreadyRunning):
        sync.follower_sync_all(account=account)
    SyncJob.objects.filter(pk=job.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    before_get, before_batch = calls(Endpoint.USER_GET), calls(Endpoint.USER_INFO_BATCHGET)

    resumed = sync.follower_sync_all(account=account)

    assert resumed.pk == job.pk
    assert (resumed.status, resumed.done, resumed.total, resumed.attempt) == (SyncJob.Status.SUCCEEDED, N, N, 2)
    assert Follower.objects.filter(account=account).count() == N
    # Resumed at page 2 (not from the start), and only the 13,000 openids not yet stored were fetched.
    resumed_gets = [c.request_json for c in SandboxCall.objects.filter(api=Endpoint.USER_GET.path).order_by("id")[before_get:]]
    assert resumed_gets[0] == {"next_openid": first_page_last}
    assert len(resumed_gets) == 3
    assert calls(Endpoint.USER_GET, request_json__isnull=True) == 1  # the first page was fetched once
    assert calls(Endpoint.USER_INFO_BATCHGET) - before_batch == (N - 12_000) // 100
    assert calls(Endpoint.USER_INFO_BATCHGET) == N // 100 + 20  # the chunk lost in the crash was fetched again


def test_a_second_sync_is_refused_while_one_runs(account, sandbox_app):
    followers_generate(app=sandbox_app, n=10)
    job = sync.follower_sync_start(account=account, enqueue=False)

    with pytest.raises(sync.SyncAlreadyRunning) as refused:
        sync.follower_sync_start(account=account, enqueue=False)

    assert refused.value.job.pk == job.pk
    assert SyncJob.objects.count() == 1
    # The runner claims the job once: a second worker given the same job does nothing.
    assert sync.follower_sync_run(job_id=job.pk).status == SyncJob.Status.SUCCEEDED
    assert sync.follower_sync_run(job_id=job.pk) is None
    assert calls(Endpoint.USER_GET) == 2


def test_the_database_refuses_two_active_jobs(account):
    from django.db import IntegrityError, transaction

    SyncJobFactory(account=account, status=SyncJob.Status.RUNNING)
    with pytest.raises(IntegrityError), transaction.atomic():
        SyncJobFactory(account=account, status=SyncJob.Status.QUEUED)


def test_daily_quota_reached_fails_the_job_with_its_meaning(account, small):
    SandboxFaultFactory(app=small, api=Endpoint.USER_INFO_BATCHGET.path, kind="errcode", value=45009)

    job = sync.follower_sync_all(account=account)

    assert (job.status, job.errcode, job.done) == (SyncJob.Status.FAILED, 45009, 0)
    assert "接口调用超过每日限额" in job.error and "Daily API quota reached" in job.error
    assert calls(Endpoint.USER_INFO_BATCHGET) == 1  # stopped at once, no retries
    assert not Follower.objects.exists()


def test_real_quota_exhaustion_on_user_get_fails_the_job(account, sandbox_app):
    from sandbox.models import SandboxQuota

    followers_generate(app=sandbox_app, n=10)
    SandboxQuota.objects.create(app=sandbox_app, api=Endpoint.USER_GET.path, day=timezone.now().date(), count=500, limit=500)

    job = sync.follower_sync_all(account=account)

    assert (job.status, job.errcode) == (SyncJob.Status.FAILED, 45009)


def test_unauthorised_account_fails_with_48001(account, sandbox_app):
    followers_generate(app=sandbox_app, n=10)
    sandbox_app.verified = False
    sandbox_app.save()

    job = sync.follower_sync_all(account=account)

    assert (job.status, job.errcode) == (SyncJob.Status.FAILED, 48001)
    assert "接口未授权" in job.error


def test_a_failed_job_resumes_where_it_stopped(account, small):
    # 29 batchget calls pass untouched, the 30th (in the second chunk of 2,000) answers 48001.
    SandboxFaultFactory(app=small, api=Endpoint.USER_INFO_BATCHGET.path, kind="latency", value=0, remaining=29)
    SandboxFaultFactory(app=small, api=Endpoint.USER_INFO_BATCHGET.path, kind="errcode", value=48001, remaining=1)

    job = sync.follower_sync_all(account=account)
    assert (job.status, job.errcode, job.done, job.page_offset) == (SyncJob.Status.FAILED, 48001, 2_000, 2_000)

    resumed = sync.follower_sync_all(account=account)

    assert resumed.pk == job.pk
    assert (resumed.status, resumed.done, resumed.errcode, resumed.error) == (SyncJob.Status.SUCCEEDED, SMALL, None, "")
    assert Follower.objects.filter(account=account).count() == SMALL
    # 20 calls for the committed chunk, 9 wasted before the failure, then the remaining 1,000 openids.
    assert calls(Endpoint.USER_INFO_BATCHGET, errcode=0) == 20 + 9 + (SMALL - 2_000) // 100


def test_busy_answers_are_retried(account, sandbox_app):
    followers_generate(app=sandbox_app, n=250)
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.USER_INFO_BATCHGET.path, kind="errcode", value=-1, remaining=2)
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.USER_GET.path, kind="timeout_before", remaining=1)

    job = sync.follower_sync_all(account=account)

    assert (job.status, job.done) == (SyncJob.Status.SUCCEEDED, 250)
    assert calls(Endpoint.USER_INFO_BATCHGET, errcode=-1) == 2
    assert calls(Endpoint.USER_INFO_BATCHGET, errcode=0) == 3


def test_busy_beyond_the_retries_fails_transiently_and_the_task_retries_the_job(account, sandbox_app):
    from celery.exceptions import Retry

    from followers import tasks

    followers_generate(app=sandbox_app, n=250)
    # Four busy answers in a row outlast the in-call retries of the first batchget.
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.USER_INFO_BATCHGET.path, kind="errcode", value=-1, remaining=4)
    job = sync.follower_sync_start(account=account, enqueue=False)

    with pytest.raises(Retry):
        tasks.follower_sync_run.delay(job.pk)

    job.refresh_from_db()
    # Queued again (not failed) with its cursor, for the retry to pick up.
    assert (job.status, job.errcode, job.attempt) == (SyncJob.Status.QUEUED, None, 1)
    assert tasks.follower_sync_run.delay(job.pk).get() == SyncJob.Status.SUCCEEDED
    job.refresh_from_db()
    assert (job.status, job.done, job.attempt) == (SyncJob.Status.SUCCEEDED, 250, 2)


def test_a_batch_with_an_openid_wechat_refuses_falls_back_to_single_lookups(account, sandbox_app):
    followers_generate(app=sandbox_app, n=150)
    refused = SandboxFollower.objects.filter(app=sandbox_app).order_by("id").first()
    # WeChat refuses the first batch (40003), then the first openid of it when asked alone.
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.USER_INFO_BATCHGET.path, kind="errcode", value=40003, remaining=1)
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.USER_INFO.path, kind="errcode", value=40003, remaining=1)

    job = sync.follower_sync_all(account=account)

    assert (job.status, job.done, job.failed) == (SyncJob.Status.SUCCEEDED, 149, 1)
    assert calls(Endpoint.USER_INFO) == 100
    assert Follower.objects.filter(account=account).count() == 149
    assert not Follower.objects.filter(openid=refused.openid).exists()


def test_legacy_user_info_shapes_parse():
    legacy = sync_rows.user_info_parse(sample_json("api/user_info_response_legacy_pre2021.json"))
    assert legacy["subscribed"] and legacy["language"] == "zh_CN"
    assert legacy["subscribe_time"] == datetime.fromtimestamp(1382694957, tz=UTC)
    assert legacy["unionid"] == "o6_bmasdasdsad6_2sgVt7hMZOPfL"
    assert (legacy["tagids"], legacy["subscribe_scene"], legacy["remark"]) == ([], "", "")

    entries = sample_json("api/user_info_batchget_response_legacy.json")["user_info_list"]
    first, second = (sync_rows.user_info_parse(e) for e in entries)
    assert first["subscribed"] and first["unionid"] == "oR5GjjgEhCMJFyzaVZdrxZ2zRRF4"
    assert second == {"openid": "otvxTs_JZ6SEiP0imdhpi50fuSZg", "subscribed": False, "unionid": "oR5GjjjrbqBZbrnPwwmSxFukE41U"}
    assert sync_rows.user_info_parse(sample_json("api/user_info_unsubscribed.json"))["subscribed"] is False


def test_batchget_answering_unsubscribed_marks_the_follower(account, sandbox_app):
    followers_generate(app=sandbox_app, n=20)
    sync.follower_sync_all(account=account)
    openid = openid_for(sandbox_app.appid, 3)
    follower = Follower.objects.get(openid=openid)
    SandboxFollower.objects.filter(openid=openid).update(subscribed=False)

    assert sync.follower_info_refresh(account=account, openid=openid).subscribed is False
    follower.refresh_from_db()
    assert follower.unsubscribed_at is not None


def test_nightly_beat_queues_every_account(make_account):
    from django.conf import settings

    first, second = make_account(appid="wx00000000000000a1"), make_account(appid="wx00000000000000a2")
    entry = settings.CELERY_BEAT_SCHEDULE["accounts.followers_sync_nightly"]
    assert entry["task"] == "accounts.tasks.followers_sync_nightly"

    from followers.tasks import followers_sync_nightly

    assert followers_sync_nightly.delay().get() == 2
    assert set(SyncJob.objects.values_list("account", flat=True)) == {first.pk, second.pk}


def test_remarks_with_tabs_backslashes_and_newlines_survive(account, sandbox_app):
    followers_generate(app=sandbox_app, n=3)
    tricky = "a\tb\\c\nd\\N"
    SandboxFollower.objects.filter(openid=openid_for(sandbox_app.appid, 1)).update(remark=tricky)

    sync.follower_sync_all(account=account)

    assert Follower.objects.get(openid=openid_for(sandbox_app.appid, 1)).remark == tricky
    assert Follower.objects.get(openid=openid_for(sandbox_app.appid, 2)).remark == ""


@pytest.mark.django_db(transaction=True)
def test_parallel_fetching_gives_the_same_result_and_closes_its_connections(make_account, settings):
    from django.db import connection

    settings.FOLLOWER_SYNC_WORKERS = 3
    account = make_account()
    app = SandboxFollower._meta.get_field("app").related_model.objects.get(appid=account.appid)
    followers_generate(app=app, n=SMALL)
    before = _backend_count(connection)

    job = sync.follower_sync_all(account=account)

    assert (job.status, job.done) == (SyncJob.Status.SUCCEEDED, SMALL)
    assert Follower.objects.filter(account=account, subscribed=True).count() == SMALL
    assert calls(Endpoint.USER_INFO_BATCHGET, errcode=0) == SMALL // 100
    assert _backend_count(connection) == before


def _backend_count(connection) -> int:
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


def test_a_sync_keeps_the_qr_scene_a_follow_recorded_when_wechat_gives_none(account, sandbox_app):
    for openid, scene in (("oKeep", "ADD_SCENE_QR_CODE"), ("oOther", "ADD_SCENE_SEARCH"), ("oNew", "ADD_SCENE_QR_CODE")):
        FollowerFactory(account=account, openid=openid, subscribe_scene="ADD_SCENE_QR_CODE", qr_scene="store_1")
        SandboxFollowerFactory(app=sandbox_app, openid=openid, subscribe_scene=scene)
    SandboxFollower.objects.filter(openid="oNew").update(qr_scene_str="store_2")

    sync.follower_sync_all(account=account)

    scenes = dict(Follower.objects.values_list("openid", "qr_scene"))
    # WeChat without a scene keeps ours; another way in clears it; WeChat's own scene wins.
    assert scenes == {"oKeep": "store_1", "oOther": "", "oNew": "store_2"}
    assert Follower.objects.get(openid="oOther").subscribe_scene == "ADD_SCENE_SEARCH"


@pytest.mark.django_db(transaction=True)
def test_in_parallel_a_busy_batch_is_retried_and_every_follower_stored(make_account, settings):
    settings.FOLLOWER_SYNC_WORKERS = 4
    account = make_account()
    app = SandboxFollower._meta.get_field("app").related_model.objects.get(appid=account.appid)
    followers_generate(app=app, n=SMALL)
    SandboxFaultFactory(app=app, api=Endpoint.USER_INFO_BATCHGET.path, kind="errcode", value=-1, remaining=2)

    job = sync.follower_sync_all(account=account)

    assert (job.status, job.done, job.failed) == (SyncJob.Status.SUCCEEDED, SMALL, 0)
    assert Follower.objects.filter(account=account, subscribed=True).count() == SMALL
    assert calls(Endpoint.USER_INFO_BATCHGET, errcode=-1) == 2
    assert calls(Endpoint.USER_INFO_BATCHGET, errcode=0) == SMALL // 100


@pytest.mark.django_db(transaction=True)
def test_in_parallel_the_daily_quota_stops_the_job_and_the_calls_not_yet_made(make_account, settings):
    settings.FOLLOWER_SYNC_WORKERS = 4
    account = make_account()
    app = SandboxFollower._meta.get_field("app").related_model.objects.get(appid=account.appid)
    followers_generate(app=app, n=N)
    SandboxFaultFactory(app=app, api=Endpoint.USER_INFO_BATCHGET.path, kind="errcode", value=45009)

    job = sync.follower_sync_all(account=account)

    assert (job.status, job.errcode, job.done) == (SyncJob.Status.FAILED, 45009, 0)
    assert "接口调用超过每日限额" in job.error and "Daily API quota reached" in job.error
    assert not Follower.objects.filter(account=account).exists()
    # At most the chunks fetched ahead were asked for (no retries); the rest of the 250 calls were never made.
    assert calls(Endpoint.USER_INFO_BATCHGET) <= 2 * sync.CHUNK_SIZE // 100


def test_a_follower_who_unfollows_between_user_get_and_batchget_is_marked_unsubscribed(account, sandbox_app, monkeypatch):
    followers_generate(app=sandbox_app, n=SMALL)
    sync.follower_sync_all(account=account)
    leaving = openid_for(sandbox_app.appid, 2_500)  # in the second chunk
    real_page = sync.wechat_users.followers_page

    def page_then_unfollow(**kwargs):
        page = real_page(**kwargs)
        SandboxFollower.objects.filter(app=sandbox_app, openid=leaving).update(subscribed=False)
        return page

    monkeypatch.setattr(sync.wechat_users, "followers_page", page_then_unfollow)

    job = sync.follower_sync_all(account=account)

    # Listed by user/get, answered as unfollowed by batchget: counted, and stored as unsubscribed.
    assert (job.status, job.total, job.done) == (SyncJob.Status.SUCCEEDED, SMALL, SMALL)
    gone = Follower.objects.get(account=account, openid=leaving)
    assert not gone.subscribed and gone.unsubscribed_at is not None
    assert Follower.objects.filter(account=account, subscribed=True).count() == SMALL - 1

from media_assets.models import Material, MaterialPullJob
from media_assets.services import pull
from media_assets.tests.factories import MaterialFactory, MaterialPullJobFactory
from sandbox import images
from sandbox.models import SandboxCall
from sandbox.tests.factories import SandboxFaultFactory
from wechat.api import media as wechat_media
from wechat.api.endpoints import Endpoint

PAGES = Endpoint.MATERIAL_BATCHGET.path


def remote(account, n: int, kind: str = "image") -> list[str]:
    """``n`` materials in the account's WeChat library (uploaded through the API, as in WeChat's console)."""
    files = {"image": ("p.png", images.png), "voice": ("v.mp3", images.mp3)}
    name, make = files[kind]
    return [
        wechat_media.material_add(account=account, kind=kind, media=wechat_media.MediaFile(name, make())).media_id
        for _ in range(n)
    ]


def run(account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job, _ = pull.material_pull_start(account=account)
    job.refresh_from_db()
    return job


def test_a_pull_upserts_every_material_and_a_second_pull_adds_no_duplicate(
    account, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(pull, "PAGE_SIZE", 2)
    images_ids, voices = remote(account, 3), remote(account, 1, "voice")
    first = run(account, django_capture_on_commit_callbacks)
    assert (first.status, first.total, first.done, first.created, first.percent) == ("succeeded", 4, 4, 4, 100)
    assert set(Material.objects.values_list("media_id", flat=True)) == {*images_ids, *voices}
    # Pulled images get their bytes for the thumbnail grid.
    assert all(m.file for m in Material.objects.filter(kind="image"))
    second = run(account, django_capture_on_commit_callbacks)
    assert (second.done, second.created) == (4, 0)
    assert Material.objects.count() == 4


def test_a_failed_pull_resumes_at_the_page_where_it_stopped(
    account, sandbox_app, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(pull, "PAGE_SIZE", 2)
    remote(account, 5)
    # The first page goes through (a counted latency fault takes its turn), the second fails with a permanent error.
    SandboxFaultFactory(app=sandbox_app, api=PAGES, kind="latency", value=0, remaining=1)
    SandboxFaultFactory(app=sandbox_app, api=PAGES, kind="errcode", value=48001, remaining=1)
    run(account, django_capture_on_commit_callbacks)
    job = MaterialPullJob.objects.get()
    assert (job.status, job.done, job.current_kind, job.offset, job.errcode) == ("failed", 2, "image", 2, 48001)
    assert "48001" in job.error and Material.objects.count() == 2
    SandboxCall.objects.filter(api=PAGES).delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert pull.material_pull_resume(job=job)
    job.refresh_from_db()
    assert (job.status, job.done, job.created) == ("succeeded", 5, 5)
    offsets = [
        c["offset"]
        for c in SandboxCall.objects.filter(api=PAGES, request_json__type="image").values_list("request_json", flat=True)
    ]
    assert offsets == [2, 4]
    assert Material.objects.count() == 5


def test_a_material_deleted_in_the_wechat_console_is_marked_by_the_pull(account, django_capture_on_commit_callbacks):
    kept = remote(account, 1)[0]
    gone = MaterialFactory(account=account, media_id="deleted-in-console")
    run(account, django_capture_on_commit_callbacks)
    gone.refresh_from_db()
    assert gone.removed_on_wechat_at is not None and gone.sync_status == "failed"
    assert gone.last_error.startswith("40007: 不合法的媒体文件 id")
    assert Material.objects.get(media_id=kept).usable


def test_one_pull_at_a_time_per_account(account):
    first, created = pull.material_pull_start(account=account)
    again, created_again = pull.material_pull_start(account=account)
    assert created and not created_again and again.pk == first.pk


def test_beat_resumes_a_pull_whose_worker_died(account, monkeypatch, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from media_assets.tasks import material_pulls_resume_stale

    monkeypatch.setattr(pull, "PAGE_SIZE", 2)
    ids = remote(account, 3)
    listed = wechat_media.material_batchget(account=account, kind="image", offset=0, count=2).items
    pull._upsert(account, "image", listed)
    job = MaterialPullJobFactory(
        account=account,
        status="running",
        current_kind="image",
        offset=2,
        done=2,
        attempt=1,
        lease_until=timezone.now() - timedelta(seconds=1),
    )
    SandboxCall.objects.filter(api=PAGES).delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert material_pulls_resume_stale.delay().get() == 1
    job.refresh_from_db()
    assert (job.status, job.done, job.attempt) == ("succeeded", 3, 2)
    assert set(Material.objects.values_list("media_id", flat=True)) == set(ids)
    first = SandboxCall.objects.filter(api=PAGES, request_json__type="image").order_by("id").first()
    assert first.request_json["offset"] == 2


def test_a_pulled_video_gets_its_title_and_description(account, django_capture_on_commit_callbacks):
    media = wechat_media.MediaFile("v.mp4", images.mp4())
    added = wechat_media.material_add(account=account, kind="video", media=media, title="开箱视频", introduction="第一期")
    run(account, django_capture_on_commit_callbacks)
    video = Material.objects.get(media_id=added.media_id)
    assert (video.kind, video.title, video.description, bool(video.file)) == ("video", "开箱视频", "第一期", False)

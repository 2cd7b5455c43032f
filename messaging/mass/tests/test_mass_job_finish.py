"""MASSSENDJOBFINISH events as the sandbox pushes them (shapes of event_masssendjobfinish.xml) update the batch."""

from __future__ import annotations

from django.utils import timezone

from messaging.mass import services as mass
from messaging.mass.models import MassBatch, MassMessage
from messaging.mass.tests.factories import MassBatchFactory
from sandbox.endpoints.mass import mass_job_finish
from sandbox.tests.factories import SandboxFaultFactory
from sandbox.tests.test_fidelity import mpnews_job

S = MassMessage.Status


def sending_article(account, *, msg_id: str) -> MassBatch:
    message = mass.mass_message_create(account=account, title="Article", msgtype="mpnews", media_id="draft-1", audience="all")
    MassMessage.objects.filter(pk=message.pk).update(status=S.SENDING)
    return MassBatchFactory(
        message=message, index=0, clientmsgid="c1", status=MassBatch.Status.SUBMITTED, msg_id=msg_id, submitted_at=timezone.now()
    )


def test_reprint_stopped_by_the_originality_check_fails_the_batch_with_its_meaning(
    account, sandbox_app, django_capture_on_commit_callbacks
):
    job = mpnews_job(sandbox_app)
    batch = sending_article(account, msg_id=job.msg_id)
    SandboxFaultFactory(app=sandbox_app, api="MASSSENDJOBFINISH", kind="errcode", value=30002, remaining=1)
    with django_capture_on_commit_callbacks(execute=True):  # the callback's side effects run after commit
        mass_job_finish(job.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.job_status, batch.check_state) == (MassBatch.Status.FAILED, "err(30002)", 3)
    assert batch.errmsg == "30002: 原创校验被判定为不能群发 / Originality check: may not be sent"
    assert [(r["ArticleIdx"], r["CanReprint"]) for r in batch.copyright_results] == [("1", "0")]
    assert MassMessage.objects.get(pk=batch.message_id).status == S.FAILED


def test_reprint_sent_anyway_finishes_the_batch_and_keeps_the_check_result(
    account, sandbox_app, django_capture_on_commit_callbacks
):
    job = mpnews_job(sandbox_app, send_ignore_reprint=1)
    batch = sending_article(account, msg_id=job.msg_id)
    SandboxFaultFactory(app=sandbox_app, api="MASSSENDJOBFINISH", kind="errcode", value=30003, remaining=1)
    with django_capture_on_commit_callbacks(execute=True):  # the callback's side effects run after commit
        mass_job_finish(job.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.job_status, batch.sent_count, batch.check_state) == (
        MassBatch.Status.FINISHED,
        "send success",
        2,
        2,
    )
    assert [r["OriginalArticleUrl"] for r in batch.copyright_results] == [
        f"https://mp.weixin.qq.com/s/sandbox-original-{job.msg_id}"
    ]

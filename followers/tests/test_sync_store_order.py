"""The full sync stores two chunks at once on PostgreSQL, each on its own connection, and commits them in order."""

import threading
import time

import pytest
from django.db import connections, transaction

from followers.models import Follower, SyncJob
from followers.services import sync, sync_rows
from sandbox.generator import followers_generate
from sandbox.models import SandboxApp

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

N = 5 * sync.CHUNK_SIZE


@pytest.fixture
def generated(make_account, settings):
    settings.FOLLOWER_SYNC_WORKERS = 4
    account = make_account()
    followers_generate(app=SandboxApp.objects.get(appid=account.appid), n=N)
    return account


class Recorder:
    """Wraps the chunk store: when each chunk's statement ran and when its transaction committed, by its first
    openid. A chosen chunk can be held open for 0.5 s (``slow``), or until the next chunk's statement has started
    (``hold``, for at most 30 s: only a store that writes two chunks at once gets there), and can fail."""

    def __init__(self, monkeypatch, *, slow: int | None = None, hold: int | None = None, fail: int | None = None):
        self.real = sync.followers_store
        self.lock = threading.Lock()
        self.chunks: list[str] = []  # first openid of each chunk, in the order the sync hands them to the store
        self.spans: dict[str, tuple[float, float]] = {}
        self.committed: list[str] = []
        self.slow, self.hold, self.fail = slow, hold, fail
        self.next_started = threading.Event()
        self.held_until_next = None  # whether the held chunk saw the next one start
        monkeypatch.setattr(sync, "followers_store", self)

    def __call__(self, **kwargs):
        first = kwargs["rows"][0][0]
        with self.lock:
            index = len(self.chunks)
            self.chunks.append(first)
        began = time.monotonic()
        if self.hold is not None and index == self.hold + 1:
            self.next_started.set()
        written = self.real(**kwargs)
        if index == self.slow:
            time.sleep(0.5)
        if index == self.hold:
            self.held_until_next = self.next_started.wait(timeout=30)
        if index == self.fail:
            raise RuntimeError(f"chunk {index} failed")
        self.spans[first] = (began, time.monotonic())
        transaction.on_commit(lambda: self.committed.append(first))
        return written


def test_chunks_are_written_two_at_once_and_committed_in_order(generated, monkeypatch):
    recorder = Recorder(monkeypatch, hold=0)

    job = sync.follower_sync_all(account=generated)

    assert (job.status, job.done) == (SyncJob.Status.SUCCEEDED, N)
    assert Follower.objects.filter(account=generated, subscribed=True).count() == N
    assert recorder.committed == recorder.chunks and len(recorder.chunks) == 5
    # The second chunk was written while the first one was still open, yet committed after it.
    assert recorder.held_until_next is True
    first, second = (recorder.spans[openid] for openid in recorder.chunks[:2])
    assert second[0] < first[1]


def test_a_failed_chunk_rolls_back_the_one_written_beside_it_and_the_job_resumes(generated, monkeypatch):
    recorder = Recorder(monkeypatch, hold=1, fail=1)

    with pytest.raises(RuntimeError, match="chunk 1 failed"):
        sync.follower_sync_all(account=generated)

    assert recorder.held_until_next is True
    job = SyncJob.objects.get(account=generated)
    # Only the first chunk and its cursor: the third, written meanwhile on the other connection, rolled back.
    assert recorder.committed == recorder.chunks[:1] and len(recorder.chunks) >= 3
    assert (job.status, job.done, job.page_offset) == (SyncJob.Status.FAILED, sync.CHUNK_SIZE, sync.CHUNK_SIZE)
    assert Follower.objects.filter(account=generated).count() == sync.CHUNK_SIZE

    monkeypatch.setattr(sync, "followers_store", recorder.real)
    job = sync.follower_sync_all(account=generated)

    assert (job.status, job.done) == (SyncJob.Status.SUCCEEDED, N)
    assert Follower.objects.filter(account=generated, subscribed=True).count() == N


def test_a_chunk_that_repeats_an_openid_of_the_chunk_before_waits_for_it(generated, monkeypatch):
    # WeChat's list can move between pages: the same follower in two consecutive chunks. Written at once, the later
    # chunk would wait for that row's lock while the earlier one waits to commit after... nothing: it must wait.
    real_result = sync.InfoFetcher.result
    previous: list = []

    def result_with_a_repeat(self, pending):
        chunk = real_result(self, pending)
        if previous:
            repeated = previous[-1].rows[-1]
            chunk = chunk._replace(
                rows=[*chunk.rows, repeated], copy_text=chunk.copy_text + "".join(sync_rows.copy_lines([repeated]))
            )
        previous.append(chunk)
        return chunk

    monkeypatch.setattr(sync.InfoFetcher, "result", result_with_a_repeat)
    recorder = Recorder(monkeypatch, slow=0)
    done = []

    def run():
        try:
            done.append(sync.follower_sync_all(account=generated))
        finally:
            connections.close_all()

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    runner.join(timeout=120)

    assert done, "the sync did not finish: two chunks waited for each other"
    assert done[0].status == SyncJob.Status.SUCCEEDED
    assert recorder.committed == recorder.chunks
    first, second = (recorder.spans[openid] for openid in recorder.chunks[:2])
    assert second[0] >= first[1]  # the second chunk started once the first had committed
    assert Follower.objects.filter(account=generated, subscribed=True).count() == N

"""Retry policies: waits, caps, fixed waits per errcode, which errors are retried, and the task/row helpers."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from wechat import retry
from wechat.errors import CONNECTION_ERROR, WeChatError, WeChatTimeout
from wechat.retry import (
    IN_PROCESS,
    INBOUND_EFFECT,
    JOB,
    MASS_BATCH,
    PUSH_ROUND,
    PUSH_SLICE,
    SEND,
    SEND_IDEMPOTENT,
    SYNC,
    TOKEN_REFRESH,
    RetryPolicy,
    call_with_retry,
    is_last_attempt,
    next_attempt_at,
    retry_or_give_up,
)

BUSY = WeChatError(-1)
MINUTE_QUOTA = WeChatError(45011)
DAILY_QUOTA = WeChatError(45009)
TOKEN_EXPIRED = WeChatError(42001)
NOT_FOLLOWING = WeChatError(43004)


def waits(policy, **kw):
    return [policy.delay(n, **kw) for n in range(1, policy.attempts)]


def test_waits_double_from_the_base_up_to_the_cap():
    assert waits(SEND) == [5, 10, 20, 40, 80]  # customer-service sends waited 1, 2, 4, 8, 16 s before
    assert waits(SYNC) == [5, 10, 20, 40, 80]
    assert waits(JOB) == [60, 120, 240, 480, 960]
    assert waits(PUSH_SLICE) == [10, 20, 40, 80, 160, 320, 600, 600, 600, 600]
    assert waits(IN_PROCESS) == [0.5, 1, 2]
    assert RetryPolicy("x", attempts=20, base=5, cap=300).delay(15) == 300


def test_mass_batch_waits_match_the_batch_formula_and_45066_waits_a_minute():
    assert waits(MASS_BATCH) == [min(300, 5 * 2 ** (a - 1)) for a in range(1, 8)]
    assert MASS_BATCH.delay(1, WeChatError(45066)) == 60
    assert MASS_BATCH.delay(7, WeChatError(45066)) == 60


def test_per_minute_quota_waits_for_the_next_minute():
    now = datetime(2026, 1, 1, 12, 30, 45, 500_000, tzinfo=UTC)
    assert SEND.delay(1, MINUTE_QUOTA, now=now) == 14.5
    assert SYNC.delay(4, MINUTE_QUOTA, now=now) == 14.5
    assert SEND.delay(1, BUSY, now=now) == 5


def test_jitter_spreads_waits_within_its_fraction(settings):
    settings.WECHAT_RETRY_JITTER = True
    spread = {SYNC.delay(3) for _ in range(50)}
    assert all(18 <= w <= 22 for w in spread)
    assert len(spread) > 1
    fixed = {MASS_BATCH.delay(2, WeChatError(45066)) for _ in range(50)}
    assert all(60 <= w <= 66 for w in fixed)  # never shorter than WeChat asks


def test_transient_errors_are_retried_auth_quota_and_permanent_ones_are_not():
    assert SEND.should_retry(BUSY, 1)
    assert SEND.should_retry(MINUTE_QUOTA, 1)
    assert SEND.should_retry(WeChatError(CONNECTION_ERROR), 1)
    assert not SEND.should_retry(TOKEN_EXPIRED, 1)  # the gateway already refreshed and retried once
    assert not SEND.should_retry(DAILY_QUOTA, 1)
    assert not SEND.should_retry(NOT_FOLLOWING, 1)
    assert not SEND.should_retry(ValueError("bug"), 1)


def test_inbound_effects_wait_out_a_daily_quota_and_retry_any_error_but_permanent_ones():
    assert INBOUND_EFFECT.should_retry(DAILY_QUOTA, 1)
    assert INBOUND_EFFECT.should_retry(ValueError("lost connection"), 1)
    assert not INBOUND_EFFECT.should_retry(NOT_FOLLOWING, 1)
    assert not INBOUND_EFFECT.should_retry(DAILY_QUOTA, INBOUND_EFFECT.attempts)


def test_timeouts_are_retried_only_by_policies_for_idempotent_calls():
    timeout = WeChatTimeout("timeout")
    assert not SEND.should_retry(timeout, 1)
    assert SEND_IDEMPOTENT.should_retry(timeout, 1)
    assert SYNC.should_retry(timeout, 1)
    assert MASS_BATCH.should_retry(timeout, 1)
    assert IN_PROCESS.should_retry(timeout, 1)


def test_the_last_attempt_is_not_retried():
    assert SYNC.should_retry(BUSY, SYNC.attempts - 1)
    assert not SYNC.should_retry(BUSY, SYNC.attempts)
    assert PUSH_SLICE.should_retry(None, 10)  # the service asked for another try
    assert not PUSH_SLICE.should_retry(None, 11)


def test_call_with_retry_sleeps_between_tries_and_returns_the_answer():
    answers = [BUSY, WeChatTimeout("timeout"), {"ok": True}]
    slept = []

    def call():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert call_with_retry(call, policy=IN_PROCESS, sleep=slept.append) == {"ok": True}
    assert slept == [0.5, 1]


def test_call_with_retry_raises_the_last_error_after_the_policys_tries():
    tries, slept = [], []

    def call():
        tries.append(1)
        raise BUSY

    with pytest.raises(WeChatError) as raised:
        call_with_retry(call, policy=IN_PROCESS, sleep=slept.append)
    assert raised.value is BUSY
    assert (len(tries), slept) == (IN_PROCESS.attempts, [0.5, 1, 2])


def test_call_with_retry_raises_a_permanent_error_at_once():
    slept = []

    def call():
        raise NOT_FOLLOWING

    with pytest.raises(WeChatError):
        call_with_retry(call, policy=IN_PROCESS, sleep=slept.append)
    assert slept == []


class RetryRequested(Exception):
    pass


def task_on_try(n: int):
    """A bound task's view of itself on try ``n``: Celery counts retries, the policy counts tries."""
    calls = []

    def retry(**options):
        calls.append(options)
        return RetryRequested()

    return SimpleNamespace(request=SimpleNamespace(retries=n - 1), retry=retry, calls=calls)


def test_retry_or_give_up_asks_celery_for_a_retry_with_the_policys_wait_and_limit():
    task = task_on_try(3)
    with pytest.raises(RetryRequested):
        retry_or_give_up(task, BUSY, policy=SEND, args=(1, "o"), kwargs={})
    assert task.calls == [{"exc": BUSY, "countdown": 20, "max_retries": 5, "args": (1, "o"), "kwargs": {}}]


@pytest.mark.parametrize(
    ("attempt", "exc"), [(SEND.attempts, BUSY), (1, NOT_FOLLOWING), (1, WeChatTimeout())], ids=["last", "permanent", "timeout"]
)
def test_retry_or_give_up_calls_give_up_on_the_last_try_and_on_errors_not_retried(attempt, exc):
    task, given_up = task_on_try(attempt), []
    retry_or_give_up(task, exc, policy=SEND, give_up=lambda: given_up.append(True))
    assert (given_up, task.calls) == ([True], [])


def test_is_last_attempt_follows_the_policy():
    assert not is_last_attempt(task_on_try(5), policy=SYNC)
    assert is_last_attempt(task_on_try(6), policy=SYNC)


def test_next_attempt_at_for_row_counted_retries():
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert next_attempt_at(policy=MASS_BATCH, attempts=3, exc=BUSY, now=now) == now + timedelta(seconds=20)
    assert next_attempt_at(policy=MASS_BATCH, attempts=3, exc=WeChatError(45066), now=now) == now + timedelta(seconds=60)
    assert next_attempt_at(policy=MASS_BATCH, attempts=MASS_BATCH.attempts, exc=BUSY, now=now) is None
    assert next_attempt_at(policy=MASS_BATCH, attempts=1, exc=NOT_FOLLOWING, now=now) is None
    assert next_attempt_at(policy=retry.INBOUND_EFFECT, attempts=1, exc=RuntimeError("receiver bug"), now=now) == (
        now + timedelta(seconds=30)
    )


def test_every_policy_is_named_once():
    assert set(retry.POLICIES) == {
        "in_process",
        "send",
        "send_idempotent",
        "sync",
        "mass_batch",
        "push_slice",
        "push_round",
        "token_refresh",
        "job",
        "inbound_effect",
    }


def test_each_retrying_task_allows_the_tries_of_its_policy():
    from celery import current_app

    current_app.loader.import_default_modules()
    expected = {
        "accounts.tasks.follower_sync_run": JOB,
        "accounts.tasks.follower_info_fetch": SYNC,
        "accounts.tasks.tag_sync": SYNC,
        "accounts.tasks.follower_operation_run": SYNC,
        "messaging.tasks.custom_message_send": SEND,
        "messaging.tasks.customer_service_send": SEND,
        "messaging.tasks.kf_account_sync": SYNC,
        "messaging.template_messages.tasks.template_message_send": SEND_IDEMPOTENT,
        "messaging.template_messages.tasks.template_push_send_batch": PUSH_SLICE,
    }
    tries = {name: current_app.tasks[name].max_retries + 1 for name in expected}
    assert tries == {name: policy.attempts for name, policy in expected.items()}


def test_a_policy_configured_by_the_deployment_keeps_its_doubling_and_cap():
    assert [PUSH_ROUND.configured(base=1.0).delay(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 5]
    assert PUSH_ROUND.configured(base=0).delay(2) == 0
    token = TOKEN_REFRESH.configured(base=5, cap=60)
    assert [token.delay(n) for n in (1, 2, 4, 5, 10_000)] == [5, 10, 40, 60, 60]
    assert token.should_retry(BUSY, 10_000)


def test_no_backoff_formula_outside_the_retry_policies():
    """Every wait between tries comes from wechat/retry.py: no exponent or doubling of a wait anywhere else."""
    root = Path(__file__).resolve().parents[2]
    skipped = {".venv", "tests", "migrations", "sandbox", "bench", "node_modules"}
    formula = re.compile(r"\b2\s*\*\*\s*[a-z_(]")  # 2 ** n, 2**min(...): a constant such as 2**32 is no wait
    found = [
        f"{path.relative_to(root)}:{n}"
        for path in root.rglob("*.py")
        if not skipped & set(path.relative_to(root).parts) and path.relative_to(root) != Path("wechat/retry.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if formula.search(line)
    ]
    assert found == []

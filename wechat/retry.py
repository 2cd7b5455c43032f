"""When a failed call to WeChat is tried again, and after how long: one set of named policies for every task.

A policy counts tries (the first one included) and waits ``min(cap, base * 2**(n - 1))`` seconds after failed try
``n``, spread by ``jitter`` so that workers failing together do not come back together. Whether an error is worth
another try comes from ``wechat.errors``: transient errors are retried, auth/quota/permanent ones are not (the
gateway already refreshed the token and retried once). A timeout leaves the outcome unknown, so it is retried only
by policies whose calls are idempotent (a clientmsgid, a claimed row, an 'already exists' answer counted as done).
"""

from __future__ import annotations

import logging
import random
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import TypeVar

from django.conf import settings
from django.utils import timezone

from .errors import Category, WeChatError, WeChatTimeout

logger = logging.getLogger(__name__)

T = TypeVar("T")

# A fixed wait meaning "until the next full minute": WeChat's per-minute quota (45011) resets then.
NEXT_MINUTE = -1.0


@dataclass(frozen=True)
class RetryPolicy:
    name: str
    attempts: int  # tries in all, the first one included
    base: float  # seconds after the first failed try, doubling with each further one
    cap: float  # longest wait, in seconds
    jitter: float = 0.1  # fraction of the wait added or taken away at random (off when WECHAT_RETRY_JITTER is false)
    retry_timeouts: bool = False  # only where a repeated call cannot act twice
    fixed: Mapping[int, float] = field(default_factory=dict)  # errcode → wait in seconds (or NEXT_MINUTE)
    other_errors: bool = False  # also retry exceptions that are not WeChatError (a bug, a lost database connection)
    retry_quota: bool = False  # also retry quota errors (45009 and the like), which only a long wait can clear

    def __post_init__(self):
        object.__setattr__(self, "fixed", MappingProxyType(dict(self.fixed)))

    def delay(self, attempt: int, exc: BaseException | None = None, *, now: datetime | None = None) -> float:
        """Seconds to wait after failed try number ``attempt`` (1 is the first try) before the next one."""
        fraction = self.jitter if settings.WECHAT_RETRY_JITTER else 0.0
        fixed = self.fixed.get(exc.errcode) if isinstance(exc, WeChatError) else None
        if fixed is None:
            wait = min(self.cap, self.base * 2 ** min(max(0, attempt - 1), 32))
            return wait * (1 + random.uniform(-fraction, fraction))
        if fixed == NEXT_MINUTE:
            now = now or timezone.now()
            fixed = 60 - now.second - now.microsecond / 1_000_000
        # A fixed wait is the least WeChat asks for: jitter only lengthens it.
        return fixed * (1 + random.uniform(0, fraction))

    def configured(self, *, base: float, cap: float | None = None) -> RetryPolicy:
        """The same policy with the first wait (and longest wait) a deployment sets in its settings."""
        return replace(self, base=base, cap=self.cap if cap is None else cap)

    def should_retry(self, exc: BaseException | None, attempt: int) -> bool:
        """Whether failed try number ``attempt`` deserves another. ``exc=None``: the service asked for one."""
        if attempt >= self.attempts:
            return False
        if exc is None:
            return True
        if not isinstance(exc, WeChatError):
            return self.other_errors
        if isinstance(exc, WeChatTimeout):
            return self.retry_timeouts
        return exc.category == Category.TRANSIENT or (self.retry_quota and exc.category == Category.QUOTA)


# Sleeps inside one call: follower sync pages and info batches (reads, so timeouts are retried).
IN_PROCESS = RetryPolicy("in_process", attempts=4, base=0.5, cap=5, retry_timeouts=True)
# A customer-service message: a timed-out send may have been delivered, and WeChat has no id to deduplicate it.
SEND = RetryPolicy("send", attempts=6, base=5, cap=300, fixed={45011: NEXT_MINUTE})
# A template message: its client_msg_id makes WeChat answer a repeated send with the first msgid.
SEND_IDEMPOTENT = replace(SEND, name="send_idempotent", retry_timeouts=True)
# Pushing a row's state to WeChat (tags, follower operations, kf accounts, info fetch): claimed rows, and the
# services count WeChat's 'already exists' / 'no such thing' answers to a repeated step as done.
SYNC = RetryPolicy("sync", attempts=6, base=5, cap=300, retry_timeouts=True, fixed={45011: NEXT_MINUTE})
# One mass-send batch, counted on the row: the clientmsgid makes a repeat safe; 45066 asks for a minute's wait.
MASS_BATCH = RetryPolicy("mass_batch", attempts=8, base=5, cap=300, retry_timeouts=True, fixed={45066: 60})
# A slice of a template push with rows requeued by transient errors (the sends themselves carry client_msg_ids).
PUSH_SLICE = RetryPolicy("push_slice", attempts=11, base=10, cap=600)
# Rounds inside one push slice: rows that failed transiently are sent again in place after a short wait (their
# client_msg_ids make that safe); the first wait is ``TEMPLATE_PUSH_RETRY_WAIT`` (``configured``), rounds are
# ``TEMPLATE_PUSH_TRANSIENT_ROUNDS``; what still fails goes back to the queue for PUSH_SLICE.
PUSH_ROUND = RetryPolicy("push_round", attempts=3, base=1.0, cap=5, retry_timeouts=True)
# A failed access_token/jsapi_ticket refresh, counted on the token row: readers are refused until the wait is over,
# and it is never given up. The waits are the deployment's (``WECHAT_TOKEN_REFRESH_BACKOFF_SECONDS``, ``..._MAX_SECONDS``).
TOKEN_REFRESH = RetryPolicy("token_refresh", attempts=sys.maxsize, base=5, cap=60, jitter=0.0, retry_timeouts=True)
# A follower sync job that failed transiently, resumed from its cursor.
JOB = RetryPolicy("job", attempts=6, base=60, cap=1800)
# A side effect of an inbound message, counted on its failure row; effects are idempotent per (message, effect).
INBOUND_EFFECT = RetryPolicy(
    "inbound_effect", attempts=8, base=30, cap=3600, retry_timeouts=True, other_errors=True, retry_quota=True
)

POLICIES = {
    p.name: p
    for p in (IN_PROCESS, SEND, SEND_IDEMPOTENT, SYNC, MASS_BATCH, PUSH_SLICE, PUSH_ROUND, TOKEN_REFRESH, JOB, INBOUND_EFFECT)
}


def call_with_retry(fn: Callable[[], T], *, policy: RetryPolicy, sleep: Callable[[float], object] = time.sleep) -> T:
    """Call ``fn`` until it succeeds, sleeping between tries as ``policy`` says; the last error is raised."""
    attempt = 1
    while True:
        try:
            return fn()
        except WeChatError as exc:
            if not policy.should_retry(exc, attempt):
                raise
            wait = policy.delay(attempt, exc)
            logger.info("wechat.retry", extra={"policy": policy.name, "errcode": exc.errcode, "attempt": attempt, "wait": wait})
            sleep(wait)
            attempt += 1


def is_last_attempt(task, *, policy: RetryPolicy) -> bool:
    """Whether the running Celery task is on the last try ``policy`` allows (services then record a failure)."""
    return task.request.retries + 1 >= policy.attempts


def retry_or_give_up(
    task,
    exc: BaseException | None,
    *,
    policy: RetryPolicy,
    give_up: Callable[[], object] | None = None,
    args: tuple | None = None,
    kwargs: dict | None = None,
) -> None:
    """After a failed try of a bound Celery task: raise its retry if ``policy`` allows one, else call ``give_up``.

    ``exc=None`` means the service asked for another try without an error (requeued rows, a resumable job).
    ``args``/``kwargs`` replace the task's arguments for the retry (e.g. to carry the id of a row it created).
    """
    attempt = task.request.retries + 1
    if policy.should_retry(exc, attempt):
        raise task.retry(
            exc=exc,
            countdown=policy.delay(attempt, exc),
            max_retries=policy.attempts - 1,
            args=args,
            kwargs=kwargs,
        )
    if give_up is not None:
        give_up()


def next_attempt_at(
    *, policy: RetryPolicy, attempts: int, exc: BaseException | None = None, now: datetime | None = None
) -> datetime | None:
    """For retries counted on a row: when to try again after ``attempts`` failed tries, or None to give up."""
    if not policy.should_retry(exc, attempts):
        return None
    now = now or timezone.now()
    return now + timedelta(seconds=policy.delay(attempts, exc, now=now))

"""What a pool of threads calling WeChat for one account needs, so that its threads open no database connection.

The thread that runs the pool reads the token first (``token_read``) and again from time to time; the pool's
threads call inside ``pool_thread()``: they buffer their call records for the pool's own thread to write
(``call_log.flush_due``) and take the token from the process's last read while its value has time left.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from wechat import call_log, tokens
from wechat.errors import WeChatError


def token_read(*, account) -> None:
    """Read the account's access_token in this thread, which renews the process's read once it has aged out. An
    error is left to the calls, which meet and report it for their own work."""
    try:
        tokens.access_token_get(account=account)
    except WeChatError:
        pass


@contextmanager
def pool_thread() -> Iterator[None]:
    """The calls in this block, made by one of a pool's threads, touch no database (a token that WeChat rejects aside)."""
    with call_log.deferred(), tokens.from_process_cache():
        yield

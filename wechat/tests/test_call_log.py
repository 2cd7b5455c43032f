"""The buffered call log: pool threads only buffer, the thread that runs the pool writes."""

from __future__ import annotations

import threading
import time

import pytest

from wechat import call_log
from wechat.models import ApiCallLog


@pytest.fixture
def buffer_empty():
    call_log.flush()
    yield
    call_log.flush()


def _record(account, n: int = 1) -> None:
    for _ in range(n):
        call_log.record(
            account=account, endpoint="cgi-bin/message/template/send", method="POST", errcode=0, errmsg="ok", duration_ms=20
        )


def test_a_full_buffer_is_written_by_the_thread_that_records(account, settings, buffer_empty):
    settings.WECHAT_API_CALL_LOG_BATCH = 3
    _record(account, 3)
    assert ApiCallLog.objects.count() == 3


def test_a_deferred_thread_never_writes_and_the_pool_thread_flushes_what_is_due(account, settings, buffer_empty):
    settings.WECHAT_API_CALL_LOG_BATCH = 3

    def pool_thread():
        with call_log.deferred():
            _record(account, 5)

    thread = threading.Thread(target=pool_thread)
    thread.start()
    thread.join()
    assert ApiCallLog.objects.count() == 0

    assert call_log.flush_due() == 5
    assert ApiCallLog.objects.count() == 5


def test_flush_due_leaves_a_young_small_buffer_alone(account, settings, buffer_empty):
    settings.WECHAT_API_CALL_LOG_BATCH = 100
    with call_log.deferred():
        _record(account, 2)
    assert call_log.flush_due() == 0
    call_log._oldest = time.monotonic() - call_log.MAX_AGE_SECONDS - 0.1
    assert call_log.flush_due() == 2


def test_a_call_record_is_stored_with_every_column_and_its_own_time(account, settings, buffer_empty):
    settings.WECHAT_API_CALL_LOG_BATCH = 100
    call_log.record(account=account, endpoint="cgi-bin/menu/get", method="GET", errcode=45009, errmsg="quota", duration_ms=7)
    time.sleep(0.01)
    call_log.record(account=None, endpoint="cgi-bin/token", method="GET", errcode=0, errmsg="", duration_ms=3)
    assert call_log.flush() == 2
    first, second = ApiCallLog.objects.order_by("created_at")
    assert (first.account_id, first.endpoint, first.method, first.errcode, first.errmsg, first.duration_ms) == (
        account.pk, "cgi-bin/menu/get", "GET", 45009, "quota", 7,
    )  # fmt: skip
    assert (second.account_id, second.endpoint, second.errcode) == (None, "cgi-bin/token", 0)
    assert first.created_at < second.created_at
    assert first.created_at.tzinfo is not None


def test_an_errmsg_with_tabs_line_breaks_backslashes_and_nul_is_stored_as_text(account, settings, buffer_empty):
    settings.WECHAT_API_CALL_LOG_BATCH = 100
    errmsg = "invalid\tparam\nline\r\\N \\ hint: [x\x00y] 无效"
    call_log.record(account=account, endpoint="cgi-bin/menu/create", method="POST", errcode=40016, errmsg=errmsg, duration_ms=5)
    call_log.record(account=account, endpoint="cgi-bin/menu/get", method="GET", errcode=0, errmsg="\\N", duration_ms=1)
    assert call_log.flush() == 2
    stored = dict(ApiCallLog.objects.values_list("endpoint", "errmsg"))
    assert stored == {"cgi-bin/menu/create": errmsg.replace("\x00", ""), "cgi-bin/menu/get": "\\N"}


def test_model_rows_and_call_records_share_one_flush(account, settings, buffer_empty):
    from accounts.audit import account_content_type
    from accounts.models import AuditEntry

    settings.WECHAT_API_CALL_LOG_BATCH = 100
    before = AuditEntry.objects.count()
    _record(account, 2)
    call_log.record_row(
        AuditEntry(
            action=AuditEntry.Action.WECHAT_CALL,
            content_type=account_content_type(),
            object_pk=str(account.pk),
            object_repr=str(account),
            account=account,
        )
    )
    assert call_log.flush() == 3
    assert ApiCallLog.objects.count() == 2
    assert AuditEntry.objects.count() == before + 1

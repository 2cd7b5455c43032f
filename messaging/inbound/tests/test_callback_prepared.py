"""On PostgreSQL the callback's statement is prepared once per database session and then executed for each message."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import sample_text
from messaging.inbound.models import CallbackSignature, InboundMessage
from messaging.inbound.tests.callback_client import post_callback, signed_query

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TEXT = sample_text("inbound/msg_text.xml")


def text_message(n: int) -> str:
    return TEXT.replace("<MsgId>1234567890123456</MsgId>", f"<MsgId>{7000 + n}</MsgId>")


def statements(queries, verb: str) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(verb)]


def prepared_in_session() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_the_statement_is_prepared_once_per_session_and_executed_for_each_message(client, account):
    assert "<MsgId>1234567890123456</MsgId>" in TEXT
    with CaptureQueriesContext(connection) as queries:
        for n in range(3):
            assert post_callback(client, account, text_message(n)).status_code == 200
    assert len(statements(queries, "PREPARE")) == 1
    assert len(statements(queries, "EXECUTE")) == 3
    assert prepared_in_session() == ["inbound_receive"]
    assert sorted(InboundMessage.objects.values_list("msg_id", flat=True)) == ["7000", "7001", "7002"]
    assert CallbackSignature.objects.count() == 3

    connection.close()  # a new session has none: it prepares the statement again
    with CaptureQueriesContext(connection) as queries:
        assert post_callback(client, account, text_message(3)).status_code == 200
    assert len(statements(queries, "PREPARE")) == 1
    assert InboundMessage.objects.count() == 4


def test_a_session_that_lost_the_statement_prepares_it_again(client, account):
    assert post_callback(client, account, text_message(0)).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # what a pooler's reset of the session does
    with CaptureQueriesContext(connection) as queries:
        assert post_callback(client, account, text_message(1)).status_code == 200
    assert len(statements(queries, "PREPARE")) == 1
    assert sorted(InboundMessage.objects.values_list("msg_id", flat=True)) == ["7000", "7001"]


def test_retries_and_reused_signatures_are_told_apart_as_before(client, make_account):
    account = make_account(default_reply_text="stored once")
    query = signed_query(account.token)
    first = post_callback(client, account, text_message(0), query=query)
    retry = post_callback(client, account, text_message(0), query=query)
    other_body = post_callback(client, account, text_message(1), query=query)
    assert (first.status_code, retry.status_code, other_body.status_code) == (200, 200, 403)
    assert retry.content == first.content and b"stored once" in first.content
    assert list(InboundMessage.objects.values_list("msg_id", flat=True)) == ["7000"]
    assert "inbound_receive" in prepared_in_session()


def test_behind_a_transaction_pooler_nothing_is_prepared(client, account, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "DISABLE_SERVER_SIDE_CURSORS", True)
    with CaptureQueriesContext(connection) as queries:
        assert post_callback(client, account, text_message(0)).status_code == 200
    assert not statements(queries, "PREPARE") and not statements(queries, "EXECUTE")
    assert prepared_in_session() == []
    assert InboundMessage.objects.count() == 1

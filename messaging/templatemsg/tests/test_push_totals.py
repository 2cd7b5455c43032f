"""A push's totals when two batches finish at once (PostgreSQL: the row lock is what orders them)."""

import threading

import pytest
from django.db import connections

from messaging.templatemsg.models import TemplateMessage
from messaging.templatemsg.services import pushes
from messaging.templatemsg.services.messages import Status
from messaging.templatemsg.tests.factories import TemplateMessageFactory, TemplatePushFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_batch_that_counted_first_does_not_write_its_totals_last(monkeypatch):
    push = TemplatePushFactory()
    TemplateMessageFactory.create_batch(3, push=push, template=push.template, status=Status.SENT)
    last = TemplateMessageFactory(push=push, template=push.template, status=Status.SENDING)
    real_counts = pushes._push_status_counts
    other: dict[str, threading.Thread] = {}

    def other_batch() -> None:
        # Another batch commits its last message and refreshes the totals while the first one holds its counts.
        try:
            TemplateMessage.objects.filter(pk=last.pk).update(status=Status.SENT)
            pushes._push_refresh_totals(push.pk)
        finally:
            connections.close_all()

    def counts_then_other_batch(push_id: int) -> dict[str, int]:
        counts = real_counts(push_id)
        if not other:
            other["batch"] = threading.Thread(target=other_batch)
            other["batch"].start()
            # Without the lock the other batch is done well within a second, and this one writes after it.
            other["batch"].join(timeout=1)
        return counts

    monkeypatch.setattr(pushes, "_push_status_counts", counts_then_other_batch)
    pushes._push_refresh_totals(push.pk)
    other["batch"].join(timeout=30)

    push.refresh_from_db()
    assert not other["batch"].is_alive()
    assert (push.sent_count, push.failed_count) == (4, 0)

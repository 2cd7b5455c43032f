"""TEMPLATESENDJOBFINISH reports arrive as fast as WeChat delivers: a sweep applies them together."""

from __future__ import annotations

import pytest

from conftest import sample_text
from messaging.inbound import effects
from messaging.inbound.models import InboundMessage
from messaging.inbound.services import inbound_dispatch_pending, inbound_receive
from messaging.templatemsg.models import TemplateMessage
from wechat.crypto import parse_xml

from .factories import MessageTemplateFactory, TemplateMessageFactory

Status = TemplateMessage.Status
SAMPLE = sample_text("inbound/event_templatesendjobfinish_success.xml")


def _report(account, msgid: str, status_text: str = "success") -> None:
    xml = SAMPLE.replace("200163836", msgid).replace("<![CDATA[success]]>", f"<![CDATA[{status_text}]]>")
    xml = xml.replace("gh_7f083739789a", account.original_id or "gh_7f083739789a")
    inbound_receive(account=account, data=parse_xml(xml, max_bytes=64_000), raw_xml=xml)


@pytest.fixture
def sent(account):
    template = MessageTemplateFactory(account=account)
    return [
        TemplateMessageFactory(template=template, status=Status.SENT, msgid=str(300000 + n), openid=f"oFollower{n:04d}")
        for n in range(40)
    ]


def test_a_sweep_applies_forty_reports_with_a_handful_of_statements(account, sent, django_assert_max_num_queries):
    for message in sent[:30]:
        _report(account, message.msgid)
    for message in sent[30:]:
        _report(account, message.msgid, "failed:user block")

    # 11: on SQLite the cache is a table, and the sweep clears its "sweep requested" flag there.
    with django_assert_max_num_queries(11):
        handled = inbound_dispatch_pending(account_id=account.pk)

    assert handled == 40
    statuses = dict(TemplateMessage.objects.values_list("msgid", "status"))
    assert [statuses[m.msgid] for m in sent] == [Status.SUCCESS] * 30 + [Status.FAILED_USER_BLOCK] * 10
    assert not InboundMessage.objects.filter(handled_at__isnull=True).exists()


def test_a_report_for_a_final_message_or_an_unknown_msgid_changes_nothing(account, sent):
    TemplateMessage.objects.filter(pk=sent[0].pk).update(status=Status.FAILED_SYSTEM, error="failed: system failed")
    _report(account, sent[0].msgid)
    _report(account, "999999")

    assert inbound_dispatch_pending(account_id=account.pk) == 2

    assert TemplateMessage.objects.get(pk=sent[0].pk).status == Status.FAILED_SYSTEM
    assert TemplateMessage.objects.filter(status=Status.SENT).count() == 39


def test_when_the_bulk_effect_fails_each_report_is_applied_on_its_own(account, sent, monkeypatch):
    bulk = effects._bulk_effects["templatesendjobfinish"]

    def broken(inbounds):
        TemplateMessage.objects.update(status=Status.SUCCESS)  # rolled back with the effect's savepoint
        raise RuntimeError("database hiccup")

    monkeypatch.setitem(effects._bulk_effects, "templatesendjobfinish", effects.BulkEffect(bulk.name, bulk.event, broken))
    _report(account, sent[0].msgid, "failed:user block")
    _report(account, sent[1].msgid)

    assert inbound_dispatch_pending(account_id=account.pk) == 2

    assert TemplateMessage.objects.get(pk=sent[0].pk).status == Status.FAILED_USER_BLOCK
    assert TemplateMessage.objects.get(pk=sent[1].pk).status == Status.SUCCESS
    assert TemplateMessage.objects.filter(status=Status.SENT).count() == 38


def test_a_second_sweep_finds_nothing_left_to_apply(account, sent):
    _report(account, sent[0].msgid)
    assert inbound_dispatch_pending(account_id=account.pk) == 1
    assert inbound_dispatch_pending(account_id=account.pk) == 0


def test_template_job_finish_events_have_a_bulk_effect():
    assert effects.bulk_events() == frozenset({"templatesendjobfinish"})


def test_a_bulk_effect_gets_what_the_events_reported_without_their_stored_xml(account, sent, monkeypatch):
    bulk = effects._bulk_effects["templatesendjobfinish"]
    given = []

    def seen(inbounds):
        given.extend(inbounds)
        bulk.run(inbounds)

    monkeypatch.setitem(effects._bulk_effects, "templatesendjobfinish", effects.BulkEffect(bulk.name, bulk.event, seen))
    _report(account, sent[0].msgid, "failed:user block")

    assert inbound_dispatch_pending(account_id=account.pk) == 1

    (row,) = given
    assert {"raw_xml", "reply_xml", "content"} <= row.get_deferred_fields()
    assert (row.account, row.msg_type, row.event, row.payload["MsgID"]) == (
        account,
        "event",
        "TEMPLATESENDJOBFINISH",
        sent[0].msgid,
    )
    assert TemplateMessage.objects.get(pk=sent[0].pk).status == Status.FAILED_USER_BLOCK

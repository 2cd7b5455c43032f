"""Pushes under one signature at the same moment on PostgreSQL: one body is stored and answered, never two."""

import queue

import pytest
from django.test import Client

from conftest import sample_text
from messaging.inbound.models import CallbackSignature, InboundMessage
from messaging.inbound.tests.callback_client import post_callback, signed_query
from messaging.mass.tests.test_mass_concurrency import run_in_threads

TEXT, UNSUBSCRIBE = "inbound/msg_text.xml", "inbound/event_unsubscribe.xml"

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_one_signature_with_two_bodies_at_once_stores_one_body(make_account):
    account = make_account(default_reply_text="stored once")
    query = signed_query(account.token)
    bodies = queue.SimpleQueue()
    for name in 2 * [TEXT] + 2 * [UNSUBSCRIBE]:
        bodies.put(name)

    def push():
        name = bodies.get()
        response = post_callback(Client(), account, sample_text(name), query=query)
        return name, response.status_code, response.content

    results = run_in_threads(4, push)

    [stored] = InboundMessage.objects.all()
    winner = TEXT if stored.msg_type == "text" else UNSUBSCRIBE
    assert sorted((name == winner, status) for name, status, _ in results) == 2 * [(False, 403)] + 2 * [(True, 200)]
    assert len({content for name, _, content in results if name == winner}) == 1  # the retry got the first reply
    assert CallbackSignature.objects.count() == 1

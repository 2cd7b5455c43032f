"""Mass sends update themselves (htmx polling) while WeChat still reports on them, and stop once settled."""

import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from messaging.mass.models import MassBatch, MassMessage

from .factories import MassBatchFactory, MassMessageFactory


@pytest.fixture
def root(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def _poll(html: str) -> str:
    return re.search(r'<div id="live-poll"[^>]*>', html).group(0)


def test_a_sending_message_page_polls_for_its_figures(root, account):
    message = MassMessageFactory(account=account, status=MassMessage.Status.SENDING)
    MassBatchFactory(message=message, status=MassBatch.Status.SUBMITTED)
    url = reverse("admin:mass_massmessage_change", args=[message.pk])
    page = root.get(url).content.decode()
    poll = _poll(page)
    assert 'hx-trigger="every 3s"' in poll and 'hx-select-oob="#live-fields,#live-inlines"' in poll
    assert f'hx-get="{url}"' in poll
    assert 'id="live-fields"' in page and 'id="live-inlines"' in page and "window.location.reload" not in page


def test_the_poll_stops_when_wechat_has_reported(root, account):
    message = MassMessageFactory(account=account, status=MassMessage.Status.SENT)
    MassBatchFactory(message=message, status=MassBatch.Status.FINISHED, sent_count=2)
    page = root.get(reverse("admin:mass_massmessage_change", args=[message.pk])).content.decode()
    assert "hx-trigger" not in _poll(page)


def test_the_list_polls_while_a_message_is_in_flight(root, account):
    url = reverse("admin:mass_massmessage_changelist")
    MassMessageFactory(account=account, status=MassMessage.Status.DRAFT)
    assert "hx-trigger" not in _poll(root.get(url).content.decode())
    MassMessageFactory(account=account, status=MassMessage.Status.SENDING)
    poll = _poll(root.get(url).content.decode())
    assert "every 5s [!document.querySelector(" in poll and 'hx-select-oob="#live-results"' in poll

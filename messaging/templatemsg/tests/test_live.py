"""Template pushes update themselves while messages are out, until TEMPLATESENDJOBFINISH settles them."""

import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from messaging.templatemsg.models import TemplateMessage, TemplatePush

from .factories import MessageTemplateFactory, TemplateMessageFactory, TemplatePushFactory


@pytest.fixture
def root(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def _poll(html: str) -> str:
    return re.search(r'<div id="live-poll"[^>]*>', html).group(0)


def test_a_push_polls_until_its_results_are_in(root, account):
    template = MessageTemplateFactory(account=account)
    push = TemplatePushFactory(template=template, status=TemplatePush.Status.SENT)
    message = TemplateMessageFactory(template=template, push=push, status=TemplateMessage.Status.SENT)
    url = reverse("admin:templatemsg_templatepush_change", args=[push.pk])
    poll = _poll(root.get(url).content.decode())
    assert 'hx-trigger="every 3s"' in poll and 'hx-select-oob="#live-fields"' in poll
    assert 'hx-select-oob="#live-results"' in _poll(
        root.get(reverse("admin:templatemsg_templatepush_changelist")).content.decode()
    )

    TemplateMessage.objects.filter(pk=message.pk).update(status=TemplateMessage.Status.SUCCESS)
    assert "hx-trigger" not in _poll(root.get(url).content.decode())
    assert "hx-trigger" not in _poll(root.get(reverse("admin:templatemsg_templatepush_changelist")).content.decode())

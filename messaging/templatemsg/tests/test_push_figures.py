"""A push's page and its list row read the same delivery figures, from the same place."""

from __future__ import annotations

import re

import pytest

from messaging.templatemsg.models import TemplateMessage
from messaging.templatemsg.tests.factories import TemplatePushFactory

from .template_support import ORDER_DATA, _template_settings, seed_template  # noqa: F401

PUSHES_URL = "/en/admin/templatemsg/templatepush/"


@pytest.fixture
def boss(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("boss", "boss@example.com", "pw"))


def figures(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", f) for f in re.findall(r'class="push-figures"[^>]*>(.*?)</span>', html)]


def test_the_push_page_shows_the_figures_its_list_row_shows(client, boss, account, sandbox_app):
    template = seed_template(sandbox_app, account)
    # Delivery results (TEMPLATESENDJOBFINISH) arrived for every message; the stored totals are not refreshed yet.
    push = TemplatePushFactory(
        account=account,
        name="p",
        template=template,
        data=ORDER_DATA,
        status="sending",
        expanded=True,
        total=28,
        scheduled_at="2020-01-01T00:00Z",
        sent_count=28,
        success_count=0,
    )
    TemplateMessage.objects.bulk_create(
        TemplateMessage(
            account=account, openid=f"o{n}", wechat_template_id="t", client_msg_id=f"c{n}", push=push, status="success"
        )
        for n in range(28)
    )
    row = figures(client.get(PUSHES_URL).content.decode())
    page = figures(client.get(f"{PUSHES_URL}{push.pk}/change/").content.decode())
    assert row == ["28 / 28 / 0"]
    assert page == row

"""Shared set-up for the template message tests: sandbox templates and followers on both sides."""

from __future__ import annotations

import pytest

from followers.models import Follower, Tag
from followers.tests.factories import TagFactory
from messaging.templatemsg.tests.factories import MessageTemplateFactory
from messaging.templatemsg.validation import keywords_from_content
from sandbox.models import SandboxFollower, SandboxTemplate

ORDER_CONTENT = "商品名称：{{thing1.DATA}}\n支付金额：{{amount2.DATA}}\n支付时间：{{time3.DATA}}"
ORDER_DATA = {"thing1": {"value": "巧克力"}, "amount2": {"value": "39.8元"}, "time3": {"value": "2014年9月22日"}}
ORDER_TEMPLATE_ID = "ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY"


@pytest.fixture(autouse=True)
def _template_settings(settings):
    # Tests hold one transaction per test; sends run in the calling thread so the sandbox sees the same rows.
    settings.TEMPLATE_PUSH_CONCURRENCY = 1
    settings.TEMPLATE_PUSH_RATE_LIMIT = 100_000
    settings.TEMPLATE_PUSH_BATCH_SIZE = 50
    settings.TEMPLATE_PUSH_RETRY_WAIT = 0


def seed_template(app, account=None, *, template_id: str = ORDER_TEMPLATE_ID, content: str = ORDER_CONTENT, title="订单支付成功"):
    """A template that exists at WeChat (sandbox) and, when ``account`` is given, locally as if pulled."""
    SandboxTemplate.objects.create(app=app, template_id=template_id, title=title, content=content)
    if account is None:
        return None
    return MessageTemplateFactory(
        account=account,
        template_id=template_id,
        title=title,
        content=content,
        keywords=keywords_from_content(content),
        sync_status="synced",
    )


def add_followers(
    account, app, count: int, *, tag: Tag | None = None, prefix: str = "oTpl", subscribed: bool = True
) -> list[str]:
    """``count`` followers known to WeChat (SandboxFollower) and to the project (Follower), optionally tagged."""
    stem = (prefix + "_" * 28)[:22]
    openids = [f"{stem}{n:06d}" for n in range(count)]
    SandboxFollower.objects.bulk_create(
        [SandboxFollower(app=app, openid=o, subscribed=subscribed, tagids=[tag.wechat_id] if tag else []) for o in openids]
    )
    followers = Follower.objects.bulk_create([Follower(account=account, openid=o, subscribed=subscribed) for o in openids])
    if tag is not None:
        through = Follower.tags.through
        through.objects.bulk_create([through(follower_id=f.pk, tag_id=tag.pk) for f in followers])
    return openids


def make_tag(account, name="VIP", wechat_id=100) -> Tag:
    return TagFactory(account=account, name=name, wechat_id=wechat_id, sync_status="synced")


def data_fields(data: dict, name: str = "data") -> dict:
    """Template data as the admin form posts it: one field per keyword."""
    return {f"{name}__{key}": item["value"] if isinstance(item, dict) else item for key, item in data.items()}

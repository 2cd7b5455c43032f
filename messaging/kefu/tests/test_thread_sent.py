"""A follower's thread also shows the template messages and mass sends that went to them, with kind and status."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from followers.tests.factories import FollowerFactory, TagFactory
from messaging.inbound.tests.factories import InboundMessageFactory
from messaging.kefu import selectors as kefu_selectors
from messaging.mass.models import MassBatch, MassMessage
from messaging.mass.tests.factories import MassBatchFactory, MassMessageFactory
from messaging.templatemsg.models import TemplateMessage
from messaging.templatemsg.tests.factories import MessageTemplateFactory, TemplateMessageFactory

OPENID = "oFollower000000000000000001"
ago = lambda **kw: timezone.now() - timedelta(**kw)  # noqa: E731


@pytest.fixture
def sent(account):
    """A follower who followed 10 days ago and has tag 100, and what was sent around them since."""
    follower = FollowerFactory(account=account, openid=OPENID, subscribe_time=ago(days=10))
    follower.tags.add(TagFactory(account=account, wechat_id=100))
    template = MessageTemplateFactory(account=account, content="商品名称：{{thing1.DATA}}\n数量：{{number2.DATA}}")
    data = {"thing1": {"value": "巧克力"}, "number2": {"value": "3"}}
    TemplateMessageFactory(
        template=template, openid=OPENID, data=data, status=TemplateMessage.Status.SUCCESS, sent_at=ago(hours=5)
    )
    TemplateMessageFactory(
        template=template, openid=OPENID, status=TemplateMessage.Status.FAILED, errcode=43004, error="require subscribe",
        sent_at=ago(hours=4),
    )  # fmt: skip
    TemplateMessageFactory(template=template, openid="oSomeoneElse", sent_at=ago(hours=4))
    InboundMessageFactory(account=account, openid=OPENID, content="收到了", create_time=ago(hours=3))

    def batch(title, audience, *, called, **fields):
        message = MassMessageFactory(account=account, title=title, audience=audience, content=f"{title} 正文")
        return MassBatchFactory(message=message, first_called_at=called, submitted_at=called, **fields)

    submitted = MassBatch.Status.SUBMITTED
    batch("名单群发", MassMessage.Audience.OPENIDS, called=ago(hours=2), openids=["oA", OPENID], status=submitted)
    batch("名单失败", MassMessage.Audience.FILTER, called=ago(hours=1), openids=[OPENID], status=MassBatch.Status.FAILED,
          errcode=45028, errmsg="has no masssend quota")  # fmt: skip
    batch("全员群发", MassMessage.Audience.ALL, called=ago(minutes=30), openids=[], status=MassBatch.Status.FINISHED)
    batch("标签群发", MassMessage.Audience.TAG, called=ago(minutes=20), openids=[], tag_wechat_id=100, status=submitted)
    # Not theirs: another list (one OpenID that only starts like theirs), another tag, everyone before they followed.
    batch("别人的名单", MassMessage.Audience.OPENIDS, called=ago(hours=2), openids=[OPENID + "X", "oB"], status=submitted)
    batch("别的标签", MassMessage.Audience.TAG, called=ago(hours=2), openids=[], tag_wechat_id=200, status=submitted)
    batch("关注之前", MassMessage.Audience.ALL, called=ago(days=11), openids=[], status=MassBatch.Status.FINISHED)
    return follower


def test_template_messages_and_mass_sends_to_the_follower_are_in_their_thread_in_order(account, sent):
    items = kefu_selectors.follower_thread(account=account, openid=OPENID)
    shown = [
        (i.sent.kind, i.sent.title, i.sent.status) if i.sent else ("in", i.inbound.content, "") for i in items
    ]  # fmt: skip
    template_title = items[0].sent.title
    assert shown == [
        ("template", template_title, "success"),
        ("template", template_title, "failed"),
        ("in", "收到了", ""),
        ("mass", "名单群发", "submitted"),
        ("mass", "名单失败", "failed"),
        ("mass", "全员群发", "finished"),
        ("mass", "标签群发", "submitted"),
    ]
    assert items[0].sent.text == "商品名称：巧克力\n数量：3"  # as the follower reads it
    assert (items[1].sent.errcode, items[4].sent.errcode) == (43004, 45028)
    assert items[3].sent.text == "名单群发 正文"


def test_a_thread_without_a_follower_row_shows_only_what_named_them(account, sent):
    sent.delete()  # no follow time, no tags: sends to everyone or a tag cannot be placed
    titles = [i.sent.title for i in kefu_selectors.follower_thread(account=account, openid=OPENID) if i.sent]
    assert titles[2:] == ["名单群发", "名单失败"]


def test_the_conversation_page_shows_them_with_kind_status_and_error(admin_client, account, sent):
    page = admin_client.get(reverse("admin:kefu_conversation_thread", args=[account.pk, OPENID])).content.decode()
    assert page.count('data-sent="template"') == 2 and page.count('data-sent="mass"') == 4
    assert page.index("商品名称：巧克力") < page.index("收到了") < page.index("名单群发 正文") < page.index("标签群发 正文")
    assert "template message (模板消息)" in page and "mass send (群发)" in page
    assert str(TemplateMessage.Status.SUCCESS.label) in page and str(MassBatch.Status.FINISHED.label) in page
    assert "43004" in page and "45028" in page
    mass = MassMessage.objects.get(title="全员群发")
    assert reverse("admin:mass_massmessage_change", args=[mass.pk]) in page
    assert "别人的名单" not in page and "别的标签" not in page and "关注之前" not in page

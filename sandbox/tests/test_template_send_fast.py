"""message/template/send in fast mode (the served sandbox under a bench) keeps WeChat's answers and records."""

import pytest

from sandbox import fast as sandbox_fast
from sandbox.models import SandboxDelivery, SandboxTemplateReceiver, SandboxTemplateSend
from sandbox.tests.factories import SandboxFollowerFactory
from wechat.api import templates
from wechat.errors import WeChatError

DATA = {key: {"value": "巧克力"} for key in ("keyword1", "keyword2", "keyword3")}


@pytest.fixture
def fast(db, settings, monkeypatch):
    """Fast mode, its call records written by the test (no background flusher outliving the test's database)."""
    settings.SANDBOX_FAST = True
    monkeypatch.setattr(sandbox_fast, "_flusher_start", lambda: None)
    yield
    sandbox_fast.calls_flush()


@pytest.fixture
def template_id(account):
    return templates.template_add(account=account, template_id_short="TM00015")


def _follower(sandbox_app, n: int) -> str:
    return SandboxFollowerFactory(app=sandbox_app, openid=f"oFast{n:023d}").openid


def test_a_send_is_stored_once_with_its_delivery_and_a_resend_answers_the_first_msgid(fast, account, sandbox_app, template_id):
    openid = _follower(sandbox_app, 1)
    send = templates.template_sender(account=account, template_id=template_id, data=DATA, url="https://example.com/o/42")
    first = send(openid=openid, client_msg_id="order-42")
    again = templates.template_sender(account=account, template_id=template_id, data=DATA)(
        openid=openid, client_msg_id="order-42"
    )
    assert first == again
    (stored,) = SandboxTemplateSend.objects.filter(app=sandbox_app)
    assert str(stored.msgid) == first
    (delivery,) = SandboxDelivery.objects.filter(app=sandbox_app, channel="template")
    assert (delivery.openid, delivery.msg_id) == (openid, first)
    assert delivery.payload["data"] == DATA and delivery.payload["url"] == "https://example.com/o/42"
    assert delivery.payload["client_msg_id"] == "order-42"


def test_a_blocking_phone_gets_the_send_but_no_delivery_and_a_refusing_one_gets_43101(fast, account, sandbox_app, template_id):
    blocking, refusing = _follower(sandbox_app, 2), _follower(sandbox_app, 3)
    SandboxTemplateReceiver.objects.create(app=sandbox_app, openid=blocking, behaviour="block")
    SandboxTemplateReceiver.objects.create(app=sandbox_app, openid=refusing, behaviour="refuse")
    send = templates.template_sender(account=account, template_id=template_id, data=DATA)
    assert send(openid=blocking, client_msg_id="b-1").isdigit()
    with pytest.raises(WeChatError) as refused:
        send(openid=refusing, client_msg_id="r-1")
    assert refused.value.errcode == 43101
    assert list(SandboxTemplateSend.objects.filter(app=sandbox_app).values_list("openid", flat=True)) == [blocking]
    assert not SandboxDelivery.objects.filter(app=sandbox_app, channel="template").exists()

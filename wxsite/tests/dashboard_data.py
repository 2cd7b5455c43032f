"""An account with a month of history: data-cube figures, follower messages, a system event, sends and an API error."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import sample_text
from followers.services import stats
from messaging.inbound.models import InboundMessage
from messaging.inbound.tests.factories import InboundMessageFactory
from messaging.mass.models import MassMessage
from messaging.mass.tests.factories import MassBatchFactory, MassMessageFactory
from sandbox import phone
from sandbox.generator import followers_generate
from sandbox.models import SandboxApp
from sandbox.tests.factories import SandboxFaultFactory
from wechat import call_log
from wechat.api import tags
from wechat.api.endpoints import Endpoint
from wechat.errors import WeChatError

FOLLOWER = "oia2TjuEGTNoeX76QEjQNrcURxG8"  # the follower of the TEMPLATESENDJOBFINISH sample


def history(account, *, post_callback=None) -> dict:
    app = SandboxApp.objects.get(appid=account.appid)
    followers_generate(app=app, n=40)
    stats.follower_stats_pull(account=account)
    for text in ("你好", "营业时间", "营业时间", "订单 1024 发货了吗"):
        phone.follower_sends(app, FOLLOWER, {"MsgType": "text", "Content": text})
    phone.follower_sends(
        app, FOLLOWER, {"MsgType": "location", "Location_X": "23.1", "Location_Y": "113.3", "Scale": "20", "Label": "广州"}
    )
    # Older messages, spread over the month.
    for days in (3, 9, 17):
        InboundMessageFactory(
            account=account,
            openid=FOLLOWER,
            msg_type="image",
            dedupe_key=f"msg:old{days}",
            raw_xml="<xml/>",
            create_time=timezone.now() - timedelta(days=days),
        )
        InboundMessage.objects.filter(dedupe_key=f"msg:old{days}").update(received_at=timezone.now() - timedelta(days=days))
    if post_callback is not None:
        post_callback(sample_text("inbound/event_templatesendjobfinish_success.xml"))
    message = MassMessageFactory(account=account, title="双十一活动", content="活动开始", status=MassMessage.Status.SENT)
    MassBatchFactory(message=message, index=0, clientmsgid="dash-1", sent_count=37, error_count=3, total_count=40)
    SandboxFaultFactory(app=app, api=Endpoint.TAGS_CREATE.path, kind="errcode", value=45009, remaining=1)
    with pytest.raises(WeChatError):
        tags.tag_create(account=account, name="VIP")
    call_log.flush()
    return {"app": app, "message": message}

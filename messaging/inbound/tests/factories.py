import factory
from django.utils import timezone

from accounts.tests.factories import OfficialAccountFactory
from messaging.inbound.models import InboundMessage


class InboundMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InboundMessage

    account = factory.SubFactory(OfficialAccountFactory)
    openid = factory.Sequence(lambda n: f"oFollower{n:010d}")
    msg_type = "text"
    content = "hello"
    msg_id = factory.Sequence(lambda n: str(10_000_000 + n))
    dedupe_key = factory.LazyAttribute(lambda m: f"msg:{m.msg_id}")
    payload = factory.LazyAttribute(lambda m: {"MsgType": m.msg_type, "Content": m.content, "MsgId": m.msg_id})
    raw_xml = "<xml></xml>"
    create_time = factory.LazyFunction(timezone.now)

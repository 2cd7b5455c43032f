import factory
from django.utils import timezone

from accounts.tests.factories import OfficialAccountFactory
from messaging.kefu.models import Conversation, KfAccount, OutboundMessage


class KfAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KfAccount

    account = factory.SubFactory(OfficialAccountFactory)
    kf_account = factory.Sequence(lambda n: f"kf{n}@gh_test")
    nickname = "客服"


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    account = factory.SubFactory(OfficialAccountFactory)
    openid = factory.Sequence(lambda n: f"oFollower{n:010d}")
    last_message_at = factory.LazyFunction(timezone.now)


class OutboundMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboundMessage

    account = factory.SubFactory(OfficialAccountFactory)
    openid = factory.Sequence(lambda n: f"oFollower{n:010d}")
    msgtype = "text"
    payload = factory.LazyFunction(lambda: {"msgtype": "text", "text": {"content": "hello"}})

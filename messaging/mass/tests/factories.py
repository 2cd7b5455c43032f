import factory

from accounts.tests.factories import OfficialAccountFactory
from messaging.mass.models import MassBatch, MassMessage, MassMessageEvent


class MassMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MassMessage

    account = factory.SubFactory(OfficialAccountFactory)
    title = factory.Sequence(lambda n: f"mass send {n}")
    msgtype = MassMessage.MsgType.TEXT
    content = "本周新闻"
    audience = MassMessage.Audience.ALL


class MassBatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MassBatch

    message = factory.SubFactory(MassMessageFactory)
    index = factory.Sequence(int)
    clientmsgid = factory.Sequence(lambda n: f"cm{n:030d}")
    openids = factory.LazyFunction(list)  # to everyone, as the message's default audience


class MassMessageEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MassMessageEvent

    message = factory.SubFactory(MassMessageFactory)
    old_status = MassMessage.Status.DRAFT
    new_status = MassMessage.Status.SCHEDULED

import factory

from accounts.tests.factories import OfficialAccountFactory
from followers.models import Follower, FollowerOperation, SyncJob, Tag


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    account = factory.SubFactory(OfficialAccountFactory)
    name = factory.Sequence(lambda n: f"标签 {n}")


class FollowerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Follower

    account = factory.SubFactory(OfficialAccountFactory)
    openid = factory.Sequence(lambda n: f"o-follower-{n:06d}")


class FollowerOperationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowerOperation

    account = factory.SubFactory(OfficialAccountFactory)
    kind = FollowerOperation.Kind.BLACKLIST
    openids = factory.LazyAttribute(lambda _: ["o-follower-000000"])


class SyncJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncJob

    account = factory.SubFactory(OfficialAccountFactory)

import factory

from accounts.tests.factories import OfficialAccountFactory
from messaging.autoreply.models import AutoReplyContent, AutoReplyRule


class AutoReplyRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AutoReplyRule

    account = factory.SubFactory(OfficialAccountFactory)
    name = factory.Sequence(lambda n: f"rule {n}")
    trigger = AutoReplyRule.Trigger.KEYWORD
    keywords = "hello"
    match_type = AutoReplyRule.MatchType.EXACT


class AutoReplyContentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AutoReplyContent

    rule = factory.SubFactory(AutoReplyRuleFactory)
    reply_type = "text"
    text = "hi there"

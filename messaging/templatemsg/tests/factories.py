import factory
from django.utils import timezone

from accounts.tests.factories import OfficialAccountFactory
from messaging.templatemsg.models import MessageTemplate, TemplateMessage, TemplatePush


class MessageTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MessageTemplate

    account = factory.SubFactory(OfficialAccountFactory)
    template_id = factory.Sequence(lambda n: f"tpl{n:040d}")
    title = "订单支付成功"
    content = "商品名称：{{thing1.DATA}}"
    keywords = factory.LazyFunction(lambda: ["thing1"])


class TemplatePushFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TemplatePush

    template = factory.SubFactory(MessageTemplateFactory)
    account = factory.SelfAttribute("template.account")
    name = factory.Sequence(lambda n: f"push {n}")
    data = factory.LazyFunction(lambda: {"thing1": {"value": "巧克力"}})
    scheduled_at = factory.LazyFunction(timezone.now)


class TemplateMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TemplateMessage

    template = factory.SubFactory(MessageTemplateFactory)
    account = factory.SelfAttribute("template.account")
    openid = factory.Sequence(lambda n: f"oFollower{n:010d}")
    wechat_template_id = factory.SelfAttribute("template.template_id")
    data = factory.LazyFunction(lambda: {"thing1": {"value": "巧克力"}})
    client_msg_id = factory.Sequence(lambda n: f"client-{n}")

"""Inbound side effects of customer service, registered when KefuConfig.ready() imports this module."""

from messaging.inbound.effects import effect_register

from .services.conversations import conversation_record_inbound


def _inbound_to_conversation(inbound):
    conversation_record_inbound(inbound=inbound)


effect_register(name="kefu.conversation", run=_inbound_to_conversation, order=20)

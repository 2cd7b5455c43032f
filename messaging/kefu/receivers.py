"""Signal receivers of customer service, connected in KefuConfig.ready()."""

from django.dispatch import receiver

from messaging.inbound.services import inbound_received

from .services.conversations import conversation_record_inbound


@receiver(inbound_received, dispatch_uid="messaging.customer_service.conversation")
def _inbound_to_conversation(sender, inbound, **kwargs):
    conversation_record_inbound(inbound=inbound)

# Old import path still used under accounts/; the models live in messaging.inbound, messaging.mass and messaging.templatemsg.
# Remove once accounts/ imports them from there.
from messaging.inbound.models import InboundMessage
from messaging.mass.models import MassMessage
from messaging.templatemsg.models import TemplateMessage

__all__ = ["InboundMessage", "MassMessage", "TemplateMessage"]

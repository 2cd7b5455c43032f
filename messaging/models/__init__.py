from .customer_service import Conversation, KfAccount, OutboundMessage  # noqa: F401
from .idempotency import IdempotencyKey  # noqa: F401
from .inbound import InboundMessage
from .mass import MassBatch, MassMessage, MassMessageEvent  # noqa: F401
from .rules import AutoReplyContent, AutoReplyRule, AutoReplyVersion  # noqa: F401
from .templates import MessageTemplate, TemplateMessage, TemplatePush  # noqa: F401

__all__ = ["InboundMessage"]

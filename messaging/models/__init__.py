from .inbound import InboundMessage

__all__ = ["InboundMessage"]

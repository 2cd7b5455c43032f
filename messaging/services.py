# Old import path still used by accounts/receivers.py; remove once it imports messaging.inbound.services.
from messaging.inbound.services import inbound_received

__all__ = ["inbound_received"]

"""Effects of inbound messages that belong to the layers below inbound (followers cannot import messaging)."""

from followers.receivers import follower_event

from .effects import effect_register

effect_register(name="followers.event", run=follower_event, order=10)

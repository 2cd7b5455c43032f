# Old import path still used under accounts/tests/; remove once they import messaging.inbound.tests.callback_client.
from messaging.inbound.tests.callback_client import *  # noqa: F403

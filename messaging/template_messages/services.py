# Old import path still used by accounts/tests/test_api_access.py; remove once it imports messaging.templatemsg.services.
from messaging.templatemsg.services import *  # noqa: F403
from messaging.templatemsg.services import __all__  # noqa: F401

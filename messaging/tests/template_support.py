# Old import path still used by accounts/tests/test_api_access.py; remove once it imports messaging.templatemsg.tests.template_support.
from messaging.templatemsg.tests.template_support import *  # noqa: F403

import pytest

from conftest import sample_text
from messaging.inbound.tests.callback_client import post_callback


@pytest.fixture
def deliver(client, account, django_capture_on_commit_callbacks):
    """POST an inbound sample (optionally with fields replaced) and run everything queued after commit."""

    def post(name: str, **replace):
        xml = sample_text(f"inbound/{name}")
        for old, new in replace.items():
            xml = xml.replace(old, new)
        with django_capture_on_commit_callbacks(execute=True):
            response = post_callback(client, account, xml)
        assert response.status_code == 200, response.content
        return response

    return post

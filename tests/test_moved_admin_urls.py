"""Old admin addresses of the models that moved out of "messaging" redirect to their new ones."""

import pytest


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/admin/messaging/autoreplyrule/", "/admin/autoreply/autoreplyrule/"),
        ("/en/admin/messaging/massmessage/7/change/", "/en/admin/mass/massmessage/7/change/"),
        ("/admin/messaging/inboundmessage/?openid=o1", "/admin/inbound/inboundmessage/?openid=o1"),
        ("/admin/messaging/conversation/3/thread/", "/admin/kefu/conversation/3/thread/"),
        ("/admin/messaging/templatepush/add/", "/admin/templatemsg/templatepush/add/"),
    ],
)
def test_an_old_admin_address_redirects_to_the_new_app(client, old, new):
    response = client.get(old)
    assert response.status_code == 301
    assert response["Location"] == new

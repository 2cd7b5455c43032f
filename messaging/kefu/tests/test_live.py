"""The inbox and a thread ask for new messages by themselves (htmx polling)."""

import re

from django.contrib.auth.models import User
from django.urls import reverse

from sandbox import phone

OPENID = "oFollower000000000000000001"


def test_inbox_and_thread_poll_for_new_messages(client, account, sandbox_app):
    phone.follower_sends(sandbox_app, OPENID, {"MsgType": "text", "Content": "你好"})
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    inbox = client.get(reverse("admin:kefu_conversation_changelist")).content.decode()
    poll = re.search(r'<div id="live-poll"[^>]*>', inbox).group(0)
    assert 'hx-trigger="every 5s"' in poll and 'hx-select-oob="#kf-inbox-live"' in poll
    assert 'id="kf-inbox-live"' in inbox
    thread = client.get(reverse("admin:kefu_conversation_thread", args=[account.pk, OPENID]), follow=True).content.decode()
    poll = re.search(r'<div id="live-poll"[^>]*>', thread).group(0)
    assert 'hx-select-oob="#kf-thread,#kf-window"' in poll

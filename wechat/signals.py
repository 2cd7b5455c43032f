"""Signals the wechat package sends; the apps above receive them (wechat imports none of them)."""

from django.dispatch import Signal

# After every call that may change WeChat state (``wechat.api.endpoints.changes_state``), whatever its outcome:
# account, endpoint (path), method, errcode (0: accepted; negative: no answer, see wechat.errors), errmsg.
# Sent for every message a push delivers: its receivers are looked up once per sender class, not at each send.
wechat_state_changing_call = Signal(use_caching=True)

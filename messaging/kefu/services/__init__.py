"""Customer service (客服消息) writes: outbound messages, conversations, kf accounts."""

from .conversations import conversation_mark_read, conversation_record_inbound, conversations_backfill
from .kf_accounts import (
    kf_account_delete_request,
    kf_account_save,
    kf_account_sync,
    kf_account_sync_give_up,
    kf_account_sync_request,
    kf_accounts_pull,
)
from .outbound import (
    TYPING_INTERVAL_SECONDS,
    ReplyWindowClosed,
    custom_message_send,
    operator_reply_queue,
    outbound_create,
    outbound_give_up,
    outbound_send,
    typing_request,
    typing_send,
)

__all__ = [
    "TYPING_INTERVAL_SECONDS",
    "ReplyWindowClosed",
    "conversation_mark_read",
    "conversation_record_inbound",
    "conversations_backfill",
    "custom_message_send",
    "kf_account_delete_request",
    "kf_account_save",
    "kf_account_sync",
    "kf_account_sync_give_up",
    "kf_account_sync_request",
    "kf_accounts_pull",
    "operator_reply_queue",
    "outbound_create",
    "outbound_give_up",
    "outbound_send",
    "typing_request",
    "typing_send",
]

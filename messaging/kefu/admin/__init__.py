"""Admin for customer service (客服消息): kf accounts, the inbox of conversations with its reply form, sent messages."""

from . import inbox, kf_accounts, outbound  # noqa: F401  each module registers its ModelAdmin

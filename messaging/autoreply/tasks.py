"""Celery tasks of auto-reply: none of its own, by design.

A rule's first reply is answered in the callback itself (``matching.reply_for``); its further replies go out as
customer-service messages, through customer service's tasks (``messaging.tasks.custom_message_send``, chained in
``services.followups_send`` so they keep their order and stop at the first refusal). Rule changes reach every
process through the version in ``AutoReplyVersion`` and the cache, read at the next callback, so nothing has to run
in the background. A task auto-reply needs later belongs here, taking ids and calling a service.
"""

"""Celery tasks for template messages: each takes ids and calls a service; names are the ones registered before the move."""

from functools import partial

from celery import shared_task

from wechat.errors import WeChatError
from wechat.retry import PUSH_SLICE, SEND_IDEMPOTENT, retry_or_give_up

from . import services
from .models import TemplateMessage


@shared_task(bind=True, max_retries=SEND_IDEMPOTENT.attempts - 1, name="messaging.template_messages.tasks.template_message_send")
def template_message_send(self, message_id: int):
    """Send one message; transient errors (busy, minute quota, timeout) are retried with the same client_msg_id."""
    try:
        message = services.template_message_send(message_id=message_id)
    except WeChatError as exc:
        give_up = partial(services.template_message_give_up, message_id=message_id, error=exc)
        retry_or_give_up(self, exc, policy=SEND_IDEMPOTENT, give_up=give_up)
        return TemplateMessage.Status.FAILED
    return message.status if message else None


@shared_task(name="messaging.template_messages.tasks.template_push_start")
def template_push_start(push_id: int):
    return services.template_push_start(push_id=push_id)


@shared_task(bind=True, max_retries=PUSH_SLICE.attempts - 1, name="messaging.template_messages.tasks.template_push_send_batch")
def template_push_send_batch(self, push_id: int, first_id: int, last_id: int):
    summary = services.template_push_send_batch(push_id=push_id, first_id=first_id, last_id=last_id)
    if summary["retry"] and not summary["stopped"]:
        # Rows still queued after the last slice stay so; the beat resumes a push whose heartbeat went quiet.
        retry_or_give_up(self, None, policy=PUSH_SLICE)
    return summary


@shared_task(name="messaging.template_messages.tasks.template_pushes_dispatch_due")
def template_pushes_dispatch_due():
    return services.template_pushes_dispatch_due()


@shared_task(name="messaging.template_messages.tasks.template_messages_dispatch_stale")
def template_messages_dispatch_stale():
    """Beat, every minute: single messages whose enqueue was lost (broker outage) are sent."""
    return services.template_messages_dispatch_stale()


@shared_task(name="messaging.template_messages.tasks.template_push_resume")
def template_push_resume(push_id: int):
    return services.template_push_resume(push_id=push_id)

"""Celery tasks of customer service. Names are the ones registered before the move: queued messages carry them."""

from functools import partial

from celery import shared_task

from accounts.models import OfficialAccount
from wechat.errors import WeChatError
from wechat.retry import SEND, SYNC, retry_or_give_up

from . import services as customer_service
from .models import OutboundMessage


@shared_task(bind=True, max_retries=SEND.attempts - 1, name="messaging.tasks.custom_message_send")
def custom_message_send(self, account_id: int, openid: str, payload: dict, kf_account: str = "", outbound_id: int | None = None):
    """Send one customer-service message; transient WeChat errors (not timeouts) are retried with backoff, then raised.

    The message is recorded once (``OutboundMessage``); retries carry its id so they never record or send it twice.
    """
    account = OfficialAccount.objects.get(pk=account_id)
    if outbound_id is None:
        outbound = customer_service.outbound_create(
            account=account, openid=openid, payload=payload, kf_account=kf_account, task_id=self.request.id or ""
        )
    else:
        outbound = OutboundMessage.objects.get(pk=outbound_id)
    try:
        return customer_service.custom_message_send(
            account=account, openid=openid, payload=payload, kf_account=kf_account, outbound=outbound
        )
    except WeChatError as exc:
        retry_or_give_up(
            self,
            exc,
            policy=SEND,
            give_up=partial(customer_service.outbound_give_up, outbound_id=outbound.pk, exc=exc),
            args=(account_id, openid, payload, kf_account, outbound.pk),  # retries send the row recorded here
            kwargs={},
        )
        raise


@shared_task(bind=True, max_retries=SEND.attempts - 1, name="messaging.tasks.customer_service_send")
def customer_service_send(self, outbound_id: int):
    """Send an operator's reply. The outcome (sent, failed with errcode, unknown) is kept on the row for the inbox."""
    outbound = OutboundMessage.objects.select_related("account").get(pk=outbound_id)
    try:
        customer_service.outbound_send(outbound=outbound)
    except WeChatError as exc:
        # Giving up fails a still-queued row; one WeChat refused or that timed out is already recorded as such.
        retry_or_give_up(
            self, exc, policy=SEND, give_up=partial(customer_service.outbound_give_up, outbound_id=outbound_id, exc=exc)
        )
    outbound.refresh_from_db()
    return {"outbound_id": outbound_id, "status": outbound.status, "errcode": outbound.errcode}


@shared_task(name="messaging.tasks.customer_service_typing")
def customer_service_typing(account_id: int, openid: str):
    return customer_service.typing_send(account=OfficialAccount.objects.get(pk=account_id), openid=openid)


@shared_task(bind=True, max_retries=SYNC.attempts - 1, name="messaging.tasks.kf_account_sync")
def kf_account_sync(self, kf_account_id: int):
    """Push one kf account to WeChat; transient errors are retried with backoff, permanent ones kept on the row."""
    try:
        customer_service.kf_account_sync(kf_account_id=kf_account_id)
    except WeChatError as exc:
        retry_or_give_up(
            self,
            exc,
            policy=SYNC,
            give_up=partial(customer_service.kf_account_sync_give_up, kf_account_id=kf_account_id, exc=exc),
        )

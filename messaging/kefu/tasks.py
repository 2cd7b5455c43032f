"""Celery tasks of customer service. Names are the ones registered before the move: queued messages carry them."""

from celery import shared_task

from accounts.models import OfficialAccount
from wechat.errors import WeChatError, WeChatTimeout

from . import services as customer_service
from .models import OutboundMessage


@shared_task(bind=True, max_retries=5, name="messaging.tasks.custom_message_send")
def custom_message_send(self, account_id: int, openid: str, payload: dict, kf_account: str = "", outbound_id: int | None = None):
    """Send one customer-service message; transient WeChat errors are retried with backoff, others are raised.

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
        if exc.is_transient and not isinstance(exc, WeChatTimeout):
            if self.request.retries >= self.max_retries:
                customer_service.outbound_give_up(outbound_id=outbound.pk, exc=exc)
                raise
            raise self.retry(
                exc=exc, countdown=2**self.request.retries, args=(account_id, openid, payload, kf_account, outbound.pk), kwargs={}
            )
        raise


@shared_task(bind=True, max_retries=5, name="messaging.tasks.customer_service_send")
def customer_service_send(self, outbound_id: int):
    """Send an operator's reply. The outcome (sent, failed with errcode, unknown) is kept on the row for the inbox."""
    outbound = OutboundMessage.objects.select_related("account").get(pk=outbound_id)
    try:
        customer_service.outbound_send(outbound=outbound)
    except WeChatError as exc:
        if exc.is_transient and not isinstance(exc, WeChatTimeout):
            if self.request.retries < self.max_retries:
                raise self.retry(exc=exc, countdown=2**self.request.retries)
            customer_service.outbound_give_up(outbound_id=outbound_id, exc=exc)
    outbound.refresh_from_db()
    return {"outbound_id": outbound_id, "status": outbound.status, "errcode": outbound.errcode}


@shared_task(name="messaging.tasks.customer_service_typing")
def customer_service_typing(account_id: int, openid: str):
    return customer_service.typing_send(account=OfficialAccount.objects.get(pk=account_id), openid=openid)


@shared_task(bind=True, max_retries=5, name="messaging.tasks.kf_account_sync")
def kf_account_sync(self, kf_account_id: int):
    """Push one kf account to WeChat; transient errors are retried with backoff, permanent ones kept on the row."""
    try:
        customer_service.kf_account_sync(kf_account_id=kf_account_id)
    except WeChatError as exc:
        if self.request.retries < self.max_retries:
            raise self.retry(exc=exc, countdown=min(300, 5 * 2**self.request.retries))
        customer_service.kf_account_sync_give_up(kf_account_id=kf_account_id, exc=exc)

from celery import shared_task

from wechat.errors import WeChatTimeout

from . import services


@shared_task
def inbound_dispatch(inbound_id: int):
    return services.inbound_dispatch(inbound_id=inbound_id)


@shared_task(bind=True, max_retries=5)
def custom_message_send(self, account_id: int, openid: str, payload: dict, kf_account: str = ""):
    """Send one customer-service message; transient WeChat errors are retried with backoff."""
    from accounts.models import OfficialAccount
    from wechat.errors import WeChatError

    account = OfficialAccount.objects.get(pk=account_id)
    try:
        return services.custom_message_send(account=account, openid=openid, payload=payload, kf_account=kf_account)
    except WeChatError as exc:
        if exc.is_transient and not isinstance(exc, WeChatTimeout):
            raise self.retry(exc=exc, countdown=2**self.request.retries)
        raise

"""Celery tasks of menus: ids in, one service call."""

from functools import partial

from celery import shared_task

from accounts.models import OfficialAccount
from wechat.errors import WeChatError
from wechat.retry import SYNC, retry_or_give_up

from . import services


@shared_task(bind=True, max_retries=SYNC.attempts - 1, name="menus.tasks.menu_publish")
def menu_publish(self, menu_id: int):
    """Publish a menu; a retry first looks for a conditional menu an earlier, unanswered attempt made."""
    try:
        version = services.menu_publish(menu_id=menu_id, retrying=self.request.retries > 0)
    except WeChatError as exc:
        retry_or_give_up(self, exc, policy=SYNC, give_up=partial(services.menu_publish_give_up, menu_id=menu_id, exc=exc))
        raise
    return {"menu_id": menu_id, "version": version.number if version else None}


@shared_task(bind=True, max_retries=SYNC.attempts - 1, name="menus.tasks.menu_conditional_unpublish")
def menu_conditional_unpublish(self, account_id: int, menuid: str):
    try:
        services.menu_conditional_unpublish(account=OfficialAccount.objects.get(pk=account_id), menuid=menuid)
    except WeChatError as exc:
        retry_or_give_up(self, exc, policy=SYNC)
        raise

"""Demo kf account for the sandbox account."""

import logging

from messaging.kefu.models import KfAccount
from messaging.kefu.services import kf_account_sync
from wechat.errors import WeChatError

logger = logging.getLogger(__name__)


def sandbox_seed_kf_account(*, account, app) -> None:
    """One kf account for the sandbox account, created through WeChat's API like an operator's would be."""
    kf_account = f"kefu1@{app.original_id}"
    if KfAccount.objects.filter(account=account, kf_account=kf_account).exists():
        return
    kf = KfAccount.objects.create(account=account, kf_account=kf_account, nickname="小微客服")
    try:
        kf_account_sync(kf_account_id=kf.pk)
    except WeChatError as exc:
        logger.warning("kf_account.seed_failed", extra={"appid": account.appid, "errcode": exc.errcode})

"""The demo menu of the sandbox account: two levels, published through WeChat's API, click keys answered by rules."""

import logging

from menus import services
from menus.models import Menu
from menus.selectors import menu_default
from messaging.autoreply.models import AutoReplyRule
from messaging.autoreply.services import rule_create
from wechat.models import SyncStatus

logger = logging.getLogger(__name__)

DEMO_MENU = [
    {"type": "click", "name": "今日歌曲", "key": "V1001_TODAY_MUSIC"},
    {
        "name": "服务",
        "sub_button": [
            {"type": "click", "name": "赞一下我们", "key": "V1001_GOOD"},
            {"type": "view", "name": "搜索 Search", "url": "https://www.soso.com/"},
            {"type": "location_select", "name": "发送位置 Location", "key": "rselfmenu_2_0"},
        ],
    },
    {
        "name": "关于",
        "sub_button": [
            {"type": "view", "name": "官网 Website", "url": "https://example.com/"},
            {"type": "click", "name": "帮助 Help", "key": "V1001_HELP"},
        ],
    },
]

# Click keys of the menu without a rule among the auto-reply demo rules (which answer V1001_TODAY_MUSIC).
DEMO_CLICK_RULES = [
    ("赞一下我们 Thumbs up", "V1001_GOOD", "感谢您的点赞！Thanks for the thumbs up!"),
    ("菜单帮助 Menu help", "V1001_HELP", "回复「help」查看帮助，或点菜单「今日歌曲」。Send 'help', or tap 今日歌曲."),
]


def sandbox_menu_seed(*, account, app) -> None:
    """Publish the demo menu once (idempotent: an account whose default menu exists is left alone)."""
    for name, key, text in DEMO_CLICK_RULES:
        if not AutoReplyRule.objects.filter(account=account, trigger=AutoReplyRule.Trigger.CLICK, event_key=key).exists():
            rule_create(
                account=account,
                name=name,
                trigger=AutoReplyRule.Trigger.CLICK,
                event_key=key,
                replies=[{"reply_type": "text", "text": text}],
            )
    if menu_default(account=account) is not None:
        return
    menu = services.menu_save(menu=Menu(account=account, kind=Menu.Kind.DEFAULT, name="主菜单 Main menu"), tree=DEMO_MENU)
    # Published here and now, like the task would, so `make run` starts with the menu live on the sandbox.
    Menu.objects.filter(pk=menu.pk).update(sync_status=SyncStatus.PENDING)
    if services.menu_publish(menu_id=menu.pk) is None:
        menu.refresh_from_db()
        logger.warning("menu.seed_failed", extra={"appid": account.appid, "error": menu.last_error})

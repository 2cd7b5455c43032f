"""Demo auto-reply rules for the sandbox account."""

from messaging.autoreply.models import AutoReplyRule
from messaging.autoreply.services import rule_create


def sandbox_rules_seed(*, account, app) -> None:
    """Demo rules for the sandbox account (idempotent: rules are found by name)."""
    demo = [
        {
            "name": "关注欢迎语 Welcome",
            "trigger": AutoReplyRule.Trigger.SUBSCRIBE,
            "replies": [
                {"reply_type": "text", "text": "欢迎关注沙箱公众号！回复「help」查看帮助。Welcome! Send 'help' for help."}
            ],
        },
        {
            "name": "问候 Greeting",
            "trigger": AutoReplyRule.Trigger.KEYWORD,
            "keywords": "你好\nhello",
            "match_type": AutoReplyRule.MatchType.EXACT,
            "priority": 10,
            "replies": [{"reply_type": "text", "text": "你好！有什么可以帮您？Hello, how can we help?"}],
        },
        {
            "name": "帮助 Help",
            "trigger": AutoReplyRule.Trigger.KEYWORD,
            "keywords": "help\n帮助",
            "match_type": AutoReplyRule.MatchType.CONTAINS,
            "replies": [
                {
                    "reply_type": "news",
                    "articles": [
                        {
                            "title": "使用帮助 How to use this account",
                            "description": "菜单、关键词和人工客服。Menus, keywords and customer service.",
                            "url": "https://example.com/help",
                            "picurl": "https://example.com/help.png",
                        }
                    ],
                }
            ],
        },
        {
            "name": "今日歌曲 Today's music",
            "trigger": AutoReplyRule.Trigger.CLICK,
            "event_key": "V1001_TODAY_MUSIC",
            "replies": [
                {"reply_type": "text", "text": "今日歌曲：《月亮代表我的心》 Today's song: The Moon Represents My Heart"}
            ],
        },
    ]
    for spec in demo:
        if AutoReplyRule.objects.filter(account=account, name=spec["name"]).exists():
            continue
        spec = dict(spec)
        rule_create(account=account, name=spec.pop("name"), trigger=spec.pop("trigger"), replies=spec.pop("replies"), **spec)

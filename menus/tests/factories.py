import factory

from menus.models import Menu, MenuVersion


class MenuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Menu

    name = factory.Sequence(lambda n: f"menu {n}")
    kind = Menu.Kind.DEFAULT


def two_level_tree() -> list[dict]:
    """A menu with a click button and two parents, in WeChat's shape."""
    return [
        {"type": "click", "name": "今日歌曲", "key": "V1001_TODAY_MUSIC"},
        {
            "name": "菜单",
            "sub_button": [
                {"type": "view", "name": "搜索", "url": "http://www.soso.com/"},
                {
                    "type": "miniprogram",
                    "name": "wxa",
                    "url": "http://mp.weixin.qq.com",
                    "appid": "wx286b93c14bbf93aa",
                    "pagepath": "pages/lunar/index",
                },
                {"type": "click", "name": "赞一下我们", "key": "V1001_GOOD"},
            ],
        },
        {
            "name": "素材",
            "sub_button": [
                {"type": "media_id", "name": "图片", "media_id": "MEDIA_ID1"},
                {"type": "article_id", "name": "发布后的图文消息", "article_id": "ARTICLE_ID1"},
            ],
        },
    ]


class MenuVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MenuVersion

    menu = factory.SubFactory(MenuFactory)
    account = factory.SelfAttribute("menu.account")
    kind = factory.SelfAttribute("menu.kind")
    number = factory.Sequence(lambda n: n + 1)

"""A news auto-reply filled from a published article (media_assets), and never from another account's."""

from django.utils import timezone

from media_assets.models import PublishedArticle
from media_assets.tests.factories import PublishedArticleFactory
from messaging.autoreply.models import AutoReplyRule
from messaging.autoreply.tests.test_rules_admin import ADD_URL, form_data
from messaging.inbound.tests.callback_client import post_callback


def published(account, **fields) -> PublishedArticle:
    values = {
        "article_id": "AID-1",
        "index": 1,
        "title": "春季上新",
        "digest": "新品一览",
        "url": "https://mp.weixin.qq.com/s/sandbox-AID-1-1",
        "cover_url": "http://mmbiz.qpic.cn/cover/0",
        "published_at": timezone.now(),
    }
    return PublishedArticleFactory(account=account, **{**values, **fields})


def test_a_news_reply_carries_the_published_article(admin_client, client, account):
    article = published(account)
    reply = {"reply_type": "news", "published_article": str(article.pk)}
    response = admin_client.post(ADD_URL, form_data(account, replies=[reply]))
    assert response.status_code == 302, response.content.decode()[:2000]
    content = AutoReplyRule.objects.get().contents.get()
    assert content.articles == [
        {"title": "春季上新", "description": "新品一览", "url": article.url, "picurl": "http://mmbiz.qpic.cn/cover/0"}
    ]
    answer = post_callback(
        client,
        account,
        "<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName>"
        "<CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content>"
        "<MsgId>71</MsgId></xml>",
    ).content.decode()
    assert "<MsgType><![CDATA[news]]></MsgType>" in answer and article.url in answer and "春季上新" in answer


def test_another_accounts_article_is_not_offered(admin_client, account, make_account):
    other = make_account(appid="wx00000000000000aa")
    article = published(other)
    reply = {"reply_type": "news", "published_article": str(article.pk)}
    response = admin_client.post(ADD_URL, form_data(account, replies=[reply]))
    assert response.status_code == 200
    assert "The published article belongs to another account." in response.content.decode()
    assert not AutoReplyRule.objects.exists()

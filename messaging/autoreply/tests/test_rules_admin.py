"""The auto-reply admin (rules with inline replies) and the message log's filters and conversation thread."""

import pytest
from django.contrib.auth.models import Permission, User

from messaging.autoreply.models import AutoReplyContent, AutoReplyRule
from messaging.autoreply.services import rule_create
from messaging.autoreply.tests.factories import AutoReplyRuleFactory
from messaging.inbound.models import InboundMessage
from messaging.inbound.tests.callback_client import post_callback
from sandbox.models import SandboxApp
from sandbox.seeders.autoreply import sandbox_rules_seed

ADD_URL = "/en/admin/autoreply/autoreplyrule/add/"


def form_data(account, *, rule=None, replies=None, **fields):
    data = {
        "account": account.pk,
        "name": "问候",
        "trigger": "keyword",
        "enabled": "on",
        "priority": "0",
        "keywords": "你好",
        "match_type": "exact",
        "event_key": "",
        "event_name": "",
        "active_from": "",
        "active_until": "",
        "reply_mode": "all",
        **fields,
    }
    replies = replies if replies is not None else [{"reply_type": "text", "text": "你好呀"}]
    data.update(
        {
            "contents-TOTAL_FORMS": str(len(replies)),
            "contents-INITIAL_FORMS": "0",
            "contents-MIN_NUM_FORMS": "0",
            "contents-MAX_NUM_FORMS": "1000",
        }
    )
    for i, reply in enumerate(replies):
        row = {
            "position": str(i),
            "reply_type": "text",
            "text": "",
            "media_id": "",
            "thumb_media_id": "",
            "title": "",
            "description": "",
            "music_url": "",
            "hq_music_url": "",
            "kf_account": "",
            **reply,
        }
        # News articles are posted as the ordered rows of the articles editor.
        articles = row.pop("articles", [])
        row["articles"] = str(len(articles))
        for j, article in enumerate(articles):
            row.update({f"articles__{j}__{key}": value for key, value in article.items()})
        data.update({f"contents-{i}-{k}": v for k, v in row.items()})
    return data


def test_operator_creates_a_keyword_rule_with_a_reply(admin_client, account, client):
    response = admin_client.post(ADD_URL, form_data(account))
    assert response.status_code == 302, response.content.decode()[:3000]
    rule = AutoReplyRule.objects.get()
    assert [c.text for c in rule.contents.all()] == ["你好呀"]
    reply = post_callback(
        client,
        account,
        "<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName>"
        "<CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content>"
        "<MsgId>7</MsgId></xml>",
    )
    assert "你好呀" in reply.content.decode()


@pytest.mark.parametrize(
    ("fields", "replies", "message"),
    [
        ({"match_type": "regex", "keywords": "(a|aa)+$"}, None, "too slow"),
        ({"match_type": "regex", "keywords": "(oops"}, None, "invalid regular expression"),
        ({}, [{"reply_type": "text", "text": "", "position": "1"}], "The text reply is empty."),
        ({}, [{"reply_type": "image"}], "media_id is required"),
        (
            {},
            [
                {
                    "reply_type": "news",
                    "articles": [{"title": "a", "url": "https://e.com/1"}, {"title": "b", "url": "https://e.com/2"}],
                }
            ],
            "carries one article",
        ),
        ({}, [], "Add at least one reply."),
    ],
)
def test_validation_errors_show_in_the_form_and_nothing_is_saved(admin_client, account, fields, replies, message):
    response = admin_client.post(ADD_URL, form_data(account, replies=replies, **fields))
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page.replace("&#x27;", "'")
    assert "errornote" in page
    assert not AutoReplyRule.objects.exists()
    assert not AutoReplyContent.objects.exists()


def test_editing_replaces_a_reply_and_the_callback_sees_it(admin_client, account):
    rule = rule_create(
        account=account, name="r", trigger="keyword", keywords="hi", replies=[{"reply_type": "text", "text": "old"}]
    )
    content = rule.contents.get()
    data = form_data(
        account,
        name="r",
        keywords="hi",
        replies=[{"reply_type": "text", "text": "new", "id": str(content.pk), "rule": str(rule.pk)}],
    )
    data["contents-INITIAL_FORMS"] = "1"
    response = admin_client.post(f"/en/admin/autoreply/autoreplyrule/{rule.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert [c.text for c in rule.contents.all()] == ["new"]


def test_changelist_toggles_enabled_and_priority(admin_client, account):
    rule = rule_create(account=account, name="r", trigger="keyword", keywords="hi", replies=[{"reply_type": "text", "text": "x"}])
    page = admin_client.get("/en/admin/autoreply/autoreplyrule/?trigger__exact=keyword").content.decode()
    assert "r" in page and "Exact" in page
    response = admin_client.post(
        "/en/admin/autoreply/autoreplyrule/",
        {"action": "disable_rules", "_selected_action": [rule.pk], "index": "0"},
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.enabled is False


def test_operator_sees_only_rules_of_their_accounts(client, make_account):
    mine = make_account(appid="wx00000000000000b1")
    other = make_account(appid="wx00000000000000b2")
    rule_create(account=mine, name="mine-rule", trigger="subscribe", replies=[{"reply_type": "text", "text": "x"}])
    rule_create(account=other, name="other-rule", trigger="subscribe", replies=[{"reply_type": "text", "text": "x"}])
    user = User.objects.create_user("op", password="pw-op-123456", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__endswith="autoreplyrule"))
    user.user_permissions.add(Permission.objects.get(codename="view_inboundmessage"))
    mine.operators.add(user)
    client.force_login(user)
    page = client.get("/en/admin/autoreply/autoreplyrule/").content.decode()
    assert "mine-rule" in page and "other-rule" not in page
    assert client.get(f"/en/admin/kefu/conversation/thread/{other.pk}/o1/").status_code == 404


def _message(client, account, openid, content, msg_id):
    xml = (
        f"<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{1700000000 + msg_id}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )
    post_callback(client, account, xml)


def test_message_log_filters_by_matched_rule_and_follower(admin_client, client, account):
    rule = rule_create(
        account=account, name="greet", trigger="keyword", keywords="hi", replies=[{"reply_type": "text", "text": "hello!"}]
    )
    _message(client, account, "oAlice", "hi", 1)
    _message(client, account, "oBob", "other", 2)
    url = "/en/admin/inbound/inboundmessage/"
    by_rule = admin_client.get(url, {"matched_rule__id__exact": rule.pk}).content.decode()
    assert "oAlice" in by_rule and "oBob" not in by_rule
    by_follower = admin_client.get(url, {"q": "oBob"}).content.decode()
    assert "oBob" in by_follower and "oAlice" not in by_follower
    by_type = admin_client.get(url, {"msg_type__exact": "text", "account__id__exact": account.pk})
    assert by_type.status_code == 200


def test_sandbox_seeder_creates_the_demo_rules_once(account):
    app = SandboxApp.objects.get(appid=account.appid)
    sandbox_rules_seed(account=account, app=app)
    sandbox_rules_seed(account=account, app=app)
    rules = AutoReplyRule.objects.filter(account=account)
    assert rules.count() == 4
    assert set(rules.values_list("trigger", flat=True)) == {"subscribe", "keyword", "click"}
    assert rules.get(trigger="click").event_key == "V1001_TODAY_MUSIC"


def test_seeded_rules_answer_on_the_phone(account):
    from sandbox import phone

    app = SandboxApp.objects.get(appid=account.appid)
    sandbox_rules_seed(account=account, app=app)
    assert "欢迎关注" in phone.follower_sends(app, "oSeed1", {"MsgType": "event", "Event": "subscribe", "EventKey": ""}).body
    assert "你好！" in phone.follower_sends(app, "oSeed1", {"MsgType": "text", "Content": "HELLO"}).body
    news = phone.follower_sends(app, "oSeed1", {"MsgType": "text", "Content": "need help please"})
    assert news.fields["MsgType"] == "news"
    click = phone.follower_sends(app, "oSeed1", {"MsgType": "event", "Event": "CLICK", "EventKey": "V1001_TODAY_MUSIC"})
    assert "今日歌曲" in click.body


def test_sandbox_seed_command_runs_the_rules_seeder(db):
    from django.core.management import call_command

    call_command("sandbox_seed")
    assert AutoReplyRule.objects.filter(account__is_sandbox=True, keywords__contains="你好").exists()
    assert InboundMessage.objects.count() == 0


@pytest.fixture
def version_bumps(monkeypatch):
    from messaging.autoreply import services

    calls = []
    real = services.rules_changed

    def counting(**kwargs):
        calls.append(kwargs["account_id"])
        real(**kwargs)

    monkeypatch.setattr(services, "rules_changed", counting)
    return calls


def test_an_admin_edit_with_two_replies_bumps_the_rules_version_once(admin_client, account, version_bumps):
    rule = rule_create(
        account=account, name="r", trigger="keyword", keywords="hi", replies=[{"reply_type": "text", "text": "old"}]
    )
    version_bumps.clear()
    content = rule.contents.get()
    data = form_data(
        account,
        name="r",
        keywords="hi",
        replies=[
            {"reply_type": "text", "text": "new", "id": str(content.pk), "rule": str(rule.pk)},
            {"reply_type": "text", "text": "second"},
        ],
    )
    data["contents-INITIAL_FORMS"] = "1"
    response = admin_client.post(f"/en/admin/autoreply/autoreplyrule/{rule.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert [c.text for c in rule.contents.order_by("position")] == ["new", "second"]
    assert version_bumps == [account.pk]


def test_an_admin_delete_bumps_the_rules_version(admin_client, account, version_bumps):
    rule = rule_create(account=account, name="r", trigger="keyword", keywords="hi", replies=[{"reply_type": "text", "text": "x"}])
    version_bumps.clear()
    response = admin_client.post(f"/en/admin/autoreply/autoreplyrule/{rule.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not AutoReplyRule.objects.exists()
    assert version_bumps == [account.pk]


def _rule_without_replies(account):
    # Stored before replies were required (an older release); a plain model save accepts switching it on.
    return AutoReplyRuleFactory(account=account, name="empty", trigger="keyword", keywords="hi", enabled=False)


def test_enabling_a_rule_without_replies_from_the_list_is_refused(admin_client, account, version_bumps):
    rule = _rule_without_replies(account)
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "form-0-id": str(rule.pk),
        "form-0-priority": "0",
        "form-0-enabled": "on",
        "_save": "Save",
    }
    response = admin_client.post("/en/admin/autoreply/autoreplyrule/", data)
    assert response.status_code == 200
    assert "Add at least one reply." in response.content.decode()
    rule.refresh_from_db()
    assert rule.enabled is False
    assert version_bumps == []


def test_the_enable_action_refuses_a_rule_without_replies(admin_client, account, version_bumps):
    rule = _rule_without_replies(account)
    response = admin_client.post(
        "/en/admin/autoreply/autoreplyrule/",
        {"action": "enable_rules", "_selected_action": [rule.pk], "index": "0"},
        follow=True,
    )
    assert "Add at least one reply." in response.content.decode()
    rule.refresh_from_db()
    assert rule.enabled is False
    assert version_bumps == []


def test_a_priority_edit_from_the_list_bumps_the_rules_version_once(admin_client, account, version_bumps):
    rule = rule_create(account=account, name="r", trigger="keyword", keywords="hi", replies=[{"reply_type": "text", "text": "x"}])
    version_bumps.clear()
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "form-0-id": str(rule.pk),
        "form-0-priority": "5",
        "form-0-enabled": "on",
        "_save": "Save",
    }
    response = admin_client.post("/en/admin/autoreply/autoreplyrule/", data)
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.priority == 5
    assert version_bumps == [account.pk]

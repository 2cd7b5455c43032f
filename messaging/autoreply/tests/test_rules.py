"""Auto-reply rules through the real callback: each trigger and reply type, keyword matching, priority, hours."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from conftest import sample_text
from messaging.autoreply.models import AutoReplyRule
from messaging.autoreply.services import rule_create, rule_delete, rule_enabled_set, rule_save
from messaging.inbound.models import InboundMessage
from messaging.inbound.tests.callback_client import post_callback, reply_plaintext

CREATE_TIME = re.compile(r"<CreateTime>\d+</CreateTime>")


def shape(xml: str) -> str:
    """The reply with CreateTime blanked: everything else must match the sample byte for byte."""
    return CREATE_TIME.sub("<CreateTime>0</CreateTime>", xml.strip())


def sample_reply(name: str, *, to_user: str = "fromUser", from_user: str = "toUser", **values) -> str:
    """A sample from tests/samples/replies/ addressed like our reply, with some values swapped in."""
    xml = sample_text(f"replies/{name}")
    xml = re.sub(r"<ToUserName><!\[CDATA\[[^\]]*\]\]></ToUserName>", f"<ToUserName><![CDATA[{to_user}]]></ToUserName>", xml)
    xml = re.sub(
        r"<FromUserName><!\[CDATA\[[^\]]*\]\]></FromUserName>", f"<FromUserName><![CDATA[{from_user}]]></FromUserName>", xml
    )
    for old, new in values.items():
        xml = xml.replace(f"[CDATA[{old}]]", f"[CDATA[{new}]]")
    return shape(xml)


def text_xml(content: str, msg_id: int = 1234567890123456, from_user: str = "fromUser") -> str:
    return (
        f"<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[{from_user}]]></FromUserName>"
        f"<CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def send_text(client, account, content: str, msg_id: int = 1234567890123456) -> str:
    response = post_callback(client, account, text_xml(content, msg_id))
    assert response.status_code == 200, response.content
    return reply_plaintext(account, response)


def keyword_rule(account, keywords: str, reply: str, *, match_type="exact", **fields):
    return rule_create(
        account=account,
        name=fields.pop("name", f"kw {keywords[:20]}"),
        trigger="keyword",
        keywords=keywords,
        match_type=match_type,
        replies=[{"reply_type": "text", "text": reply}],
        **fields,
    )


def text_of(xml: str) -> str:
    found = re.search(r"<Content><!\[CDATA\[(.*)\]\]></Content>", xml, re.S)
    return found.group(1) if found else xml


# --- reply types, compared with tests/samples/replies --------------------------------------------


def test_text_reply_matches_the_sample(client, account):
    keyword_rule(account, "this is a test", "你好")
    reply = post_callback(client, account, sample_text("inbound/msg_text.xml")).content.decode()
    assert shape(reply) == sample_reply("reply_text.xml")


def test_text_reply_with_a_link_keeps_the_markup(client, account):
    keyword_rule(account, "link", '看看 <a href="https://example.com/a?b=1&c=2">这里</a>')
    assert text_of(send_text(client, account, "link")) == '看看 <a href="https://example.com/a?b=1&c=2">这里</a>'


@pytest.mark.parametrize(
    ("reply", "sample", "values"),
    [
        ({"reply_type": "image", "media_id": "media_id"}, "reply_image.xml", {}),
        ({"reply_type": "voice", "media_id": "media_id"}, "reply_voice.xml", {}),
        ({"reply_type": "video", "media_id": "media_id", "title": "title", "description": "description"}, "reply_video.xml", {}),
        (
            {
                "reply_type": "music",
                "title": "TITLE",
                "description": "DESCRIPTION",
                "music_url": "https://music.example.com/a.mp3",
                "hq_music_url": "https://music.example.com/a-hq.mp3",
                "thumb_media_id": "media_id",
            },
            "reply_music.xml",
            {"MUSIC_Url": "https://music.example.com/a.mp3", "HQ_MUSIC_Url": "https://music.example.com/a-hq.mp3"},
        ),
        (
            {
                "reply_type": "news",
                "articles": [
                    {
                        "title": "title1",
                        "description": "description1",
                        "picurl": "https://p.example.com/1.jpg",
                        "url": "https://example.com/1",
                    }
                ],
            },
            "reply_news_1_article.xml",
            {"picurl": "https://p.example.com/1.jpg", "url": "https://example.com/1"},
        ),
        ({"reply_type": "transfer_customer_service", "kf_account": "test1@test"}, "reply_transfer_customer_service.xml", {}),
    ],
    ids=["image", "voice", "video", "music", "news", "transfer"],
)
def test_each_reply_type_matches_its_sample(client, account, reply, sample, values):
    rule_create(account=account, name="t", trigger="keyword", keywords="this is a test", replies=[reply])
    response = post_callback(client, account, sample_text("inbound/msg_text.xml"))
    assert shape(response.content.decode()) == sample_reply(sample, **values)


def test_transfer_without_kf_account_has_no_transinfo(client, account):
    rule_create(
        account=account, name="t", trigger="keyword", keywords="人工", replies=[{"reply_type": "transfer_customer_service"}]
    )
    reply = send_text(client, account, "人工")
    assert "<MsgType><![CDATA[transfer_customer_service]]></MsgType>" in reply
    assert "TransInfo" not in reply


def test_reply_is_encrypted_in_safe_mode(client, make_account):
    account = make_account(mode="safe")
    keyword_rule(account, "hello", "hi there")
    response = post_callback(client, account, text_xml("hello"))
    assert b"<Encrypt>" in response.content
    assert text_of(reply_plaintext(account, response)) == "hi there"


# --- triggers --------------------------------------------------------------------------------------


def news_reply(n: int) -> dict:
    return {
        "reply_type": "news",
        "articles": [{"title": f"t{i}", "description": f"d{i}", "url": f"https://example.com/{i}"} for i in range(1, n + 1)],
    }


def test_subscribe_rule_answers_a_plain_follow(client, account):
    rule_create(account=account, name="welcome", trigger="subscribe", replies=[{"reply_type": "text", "text": "欢迎关注"}])
    response = post_callback(client, account, sample_text("inbound/event_subscribe.xml"))
    assert shape(response.content.decode()) == sample_reply("reply_text.xml", to_user="FromUser", **{"你好": "欢迎关注"})


def test_subscribe_news_carries_up_to_eight_articles(client, account):
    rule_create(account=account, name="welcome", trigger="subscribe", replies=[news_reply(8)])
    reply = post_callback(client, account, sample_text("inbound/event_subscribe.xml")).content.decode()
    assert "<ArticleCount>8</ArticleCount>" in reply
    assert reply.count("<item>") == 8


def test_subscribe_through_a_qr_code_prefers_the_scene_rule(client, account):
    rule_create(account=account, name="welcome", trigger="subscribe", replies=[{"reply_type": "text", "text": "欢迎"}])
    rule_create(
        account=account, name="scene", trigger="scan", event_key="123123", replies=[{"reply_type": "text", "text": "来自门店"}]
    )
    reply = post_callback(client, account, sample_text("inbound/event_subscribe_qrscene.xml")).content.decode()
    assert text_of(reply) == "来自门店"
    assert InboundMessage.objects.get().matched_rule.name == "scene"


def test_subscribe_with_an_unknown_scene_falls_back_to_the_welcome(client, account):
    rule_create(account=account, name="welcome", trigger="subscribe", replies=[{"reply_type": "text", "text": "欢迎"}])
    rule_create(account=account, name="scene", trigger="scan", event_key="999", replies=[{"reply_type": "text", "text": "x"}])
    reply = post_callback(client, account, sample_text("inbound/event_subscribe_qrscene.xml")).content.decode()
    assert text_of(reply) == "欢迎"


@pytest.mark.parametrize(("sample", "scene"), [("event_scan.xml", "SCENE_VALUE"), ("event_scan_numeric_scene.xml", "123123")])
def test_scan_rule_answers_scan_events(client, account, sample, scene):
    rule_create(
        account=account, name="scene", trigger="scan", event_key=scene, replies=[{"reply_type": "text", "text": "扫码成功"}]
    )
    reply = post_callback(client, account, sample_text(f"inbound/{sample}")).content.decode()
    assert shape(reply) == sample_reply("reply_text.xml", to_user="FromUser", **{"你好": "扫码成功"})


def test_click_rule_answers_its_menu_key_only(client, account):
    rule_create(
        account=account,
        name="menu",
        trigger="click",
        event_key="EVENTKEY",
        replies=[{"reply_type": "image", "media_id": "media_id"}],
    )
    reply = post_callback(client, account, sample_text("inbound/event_click.xml")).content.decode()
    assert shape(reply) == sample_reply("reply_image.xml", to_user="FromUser")
    other = sample_text("inbound/event_click.xml").replace("EVENTKEY", "OTHER").replace("123456789", "123456790")
    assert post_callback(client, account, other).content == b"success"


def test_click_news_reply_may_carry_several_articles(client, account):
    rule_create(account=account, name="menu", trigger="click", event_key="EVENTKEY", replies=[news_reply(3)])
    reply = post_callback(client, account, sample_text("inbound/event_click.xml")).content.decode()
    assert "<ArticleCount>3</ArticleCount>" in reply


def test_default_rule_answers_unmatched_messages_of_any_type(client, account):
    rule_create(account=account, name="default", trigger="default", replies=[{"reply_type": "text", "text": "收到"}])
    keyword_rule(account, "hello", "hi")
    assert text_of(send_text(client, account, "something else")) == "收到"
    image = post_callback(client, account, sample_text("inbound/msg_image.xml")).content.decode()
    assert text_of(image) == "收到"
    assert text_of(send_text(client, account, "hello", msg_id=2)) == "hi"


def test_without_a_default_rule_the_account_default_text_answers(client, make_account):
    account = make_account(default_reply_text="默认回复")
    keyword_rule(account, "hello", "hi")
    assert text_of(send_text(client, account, "unmatched")) == "默认回复"
    assert InboundMessage.objects.get().matched_rule is None


def test_events_without_a_rule_get_success(client, account):
    rule_create(account=account, name="default", trigger="default", replies=[{"reply_type": "text", "text": "收到"}])
    assert post_callback(client, account, sample_text("inbound/event_view.xml")).content == b"success"


@pytest.mark.parametrize(
    ("trigger", "sample", "extra"),
    [
        ("unsubscribe", "event_unsubscribe.xml", {}),
        ("location", "event_location.xml", {}),
        ("event", "event_view.xml", {"event_name": "view"}),
    ],
)
def test_side_effect_rules_are_recorded_but_answer_success(client, account, trigger, sample, extra):
    rule = rule_create(account=account, name="side", trigger=trigger, replies=[], **extra)
    response = post_callback(client, account, sample_text(f"inbound/{sample}"))
    assert response.content == b"success"
    assert InboundMessage.objects.get().matched_rule == rule


def test_voice_recognition_text_matches_keywords(client, account):
    keyword_rule(account, "天气", "今天晴", match_type="contains")
    xml = sample_text("inbound/msg_voice.xml")
    if "<Recognition>" not in xml:
        xml = xml.replace("</xml>", "<Recognition><![CDATA[今天天气怎么样]]></Recognition></xml>")
    else:
        xml = re.sub(r"<Recognition>.*?</Recognition>", "<Recognition><![CDATA[今天天气怎么样]]></Recognition>", xml, flags=re.S)
    assert text_of(post_callback(client, account, xml).content.decode()) == "今天晴"


# --- keyword matching -------------------------------------------------------------------------------


def test_exact_match_ignores_case_and_surrounding_spaces_but_not_extra_words(client, account):
    keyword_rule(account, "Hello", "hi")
    assert text_of(send_text(client, account, "  hELLO ", 1)) == "hi"
    assert send_text(client, account, "hello there", 2) == "success"


def test_contains_match_finds_the_keyword_anywhere(client, account):
    keyword_rule(account, "价格\nPrice", "见价目表", match_type="contains")
    assert text_of(send_text(client, account, "请问这个价格多少", 1)) == "见价目表"
    assert text_of(send_text(client, account, "what's the PRICE?", 2)) == "见价目表"
    assert send_text(client, account, "你好", 3) == "success"


def test_regex_match_is_case_insensitive(client, account):
    keyword_rule(account, r"^order\s*#?(\d{4,})$", "查询订单中", match_type="regex")
    assert text_of(send_text(client, account, "ORDER #12345", 1)) == "查询订单中"
    assert send_text(client, account, "order 12", 2) == "success"


def test_higher_priority_wins_over_an_older_rule(client, account):
    keyword_rule(account, "优惠", "old contains", match_type="contains", name="low")
    keyword_rule(account, r"优惠券", "regex wins", match_type="regex", name="high", priority=5)
    assert text_of(send_text(client, account, "有优惠券吗", 1)) == "regex wins"
    assert InboundMessage.objects.get().matched_rule.name == "high"


def test_with_equal_priority_the_older_rule_wins(client, account):
    keyword_rule(account, "优惠", "first", match_type="contains")
    keyword_rule(account, "有优惠吗", "second")
    assert text_of(send_text(client, account, "有优惠吗")) == "first"


def test_disabled_rule_does_not_answer(client, account):
    rule = keyword_rule(account, "hello", "hi")
    rule_enabled_set(rules=AutoReplyRule.objects.filter(pk=rule.pk), enabled=False)
    assert send_text(client, account, "hello") == "success"


def test_a_rule_edit_is_seen_by_the_next_message(client, account):
    rule = keyword_rule(account, "hello", "hi")
    assert text_of(send_text(client, account, "hello", 1)) == "hi"
    content = rule.contents.get()
    content.text = "hi again"
    rule_save(rule=rule, contents=[content])
    assert text_of(send_text(client, account, "hello", 2)) == "hi again"
    rule_delete(rule=rule)
    assert send_text(client, account, "hello", 3) == "success"


def _at(hour: int, minute: int = 0):
    now = timezone.localtime()
    return now.replace(hour=hour, minute=minute, second=0, microsecond=0)


@pytest.mark.parametrize(
    ("start", "end", "hour", "active"),
    [
        ("09:00", "18:00", 10, True),
        ("09:00", "18:00", 18, False),
        ("22:00", "06:00", 23, True),
        ("22:00", "06:00", 3, True),
        ("22:00", "06:00", 12, False),
    ],
)
def test_active_hours_use_the_account_time_zone_and_may_wrap_midnight(client, account, monkeypatch, start, end, hour, active):
    keyword_rule(account, "hello", "office hours", active_from=start, active_until=end, name="office")
    rule_create(account=account, name="default", trigger="default", replies=[{"reply_type": "text", "text": "稍后回复"}])
    moment = _at(hour)
    monkeypatch.setattr("messaging.autoreply.matching.timezone.localtime", lambda *a, **k: moment)
    expected = "office hours" if active else "稍后回复"
    assert text_of(send_text(client, account, "hello")) == expected


def test_active_hours_are_local_time_not_utc(client, account, settings, monkeypatch):
    settings.TIME_ZONE = "Asia/Shanghai"
    keyword_rule(account, "hello", "morning", active_from="08:00", active_until="09:00")
    utc_moment = datetime(2026, 1, 5, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai
    real_localtime = timezone.localtime
    monkeypatch.setattr(
        "messaging.autoreply.matching.timezone.localtime", lambda value=None, tz=None: real_localtime(utc_moment, tz)
    )
    assert text_of(send_text(client, account, "hello")) == "morning"


def test_random_mode_answers_one_of_the_replies(client, account):
    rule_create(
        account=account,
        name="dice",
        trigger="keyword",
        keywords="dice",
        reply_mode="random",
        replies=[{"reply_type": "text", "text": str(i)} for i in range(1, 4)],
    )
    seen = {text_of(send_text(client, account, "dice", msg_id=i)) for i in range(1, 31)}
    assert seen <= {"1", "2", "3"}
    assert len(seen) > 1


def test_rules_of_another_account_do_not_answer(client, make_account):
    mine = make_account(appid="wx00000000000000a1")
    other = make_account(appid="wx00000000000000a2")
    keyword_rule(other, "hello", "not for you")
    assert send_text(client, mine, "hello") == "success"


def test_retried_message_gets_the_first_reply_even_after_an_edit(client, account):
    rule = keyword_rule(account, "hello", "first")
    assert text_of(send_text(client, account, "hello")) == "first"
    content = rule.contents.get()
    content.text = "changed"
    rule_save(rule=rule, contents=[content])
    assert text_of(send_text(client, account, "hello")) == "first"
    assert InboundMessage.objects.count() == 1


def test_matched_rule_survives_the_rule_being_deleted(client, account):
    rule = keyword_rule(account, "hello", "hi")
    send_text(client, account, "hello")
    rule.delete()
    message = InboundMessage.objects.get()
    assert message.matched_rule is None
    assert message.reply_xml


def test_thousand_rules_still_match_the_late_one(client, account):
    rules = []
    for i in range(1000):
        kind = ("exact", "contains", "regex")[i % 3]
        keyword = {"exact": f"code{i}", "contains": f"needle{i}x", "regex": rf"^item-{i}-\d+$"}[kind]
        rules.append(AutoReplyRule(account=account, name=f"r{i}", trigger="keyword", keywords=keyword, match_type=kind))
    AutoReplyRule.objects.bulk_create(rules)
    keyword_rule(account, r"^late-(\d+)$", "late", match_type="regex", priority=-1)
    started = timezone.now()
    assert text_of(send_text(client, account, "late-42", 1)) == "late"
    assert send_text(client, account, "I have needle997x here", 2) == "success"  # matched, but a rule without replies
    assert InboundMessage.objects.get(msg_id="2").matched_rule.name == "r997"
    assert timezone.now() - started < timedelta(seconds=10)


def test_regex_priority_follows_the_rules_not_the_position_in_the_text(client, account):
    keyword_rule(account, r"^hello", "starts", match_type="regex", name="low")
    keyword_rule(account, r"world$", "ends", match_type="regex", name="high", priority=3)
    for i in range(60):  # enough regex rules in between to share combined expressions
        keyword_rule(account, rf"^filler{i}\d$", "filler", match_type="regex", name=f"f{i}", priority=1)
    assert text_of(send_text(client, account, "hello world", 1)) == "ends"
    assert text_of(send_text(client, account, "hello there", 2)) == "starts"
    assert text_of(send_text(client, account, "FILLER42" + "7", 3)) == "filler"


def test_regex_with_a_backreference_works(client, account):
    keyword_rule(account, r"(\w)\1{2}", "triple", match_type="regex")
    assert text_of(send_text(client, account, "zzz", 1)) == "triple"
    assert send_text(client, account, "zz", 2) == "success"


def test_another_process_changing_rules_is_noticed_through_the_version(client, account, monkeypatch):
    from django.core.cache import cache

    from messaging.autoreply import matching as autoreply_matching
    from messaging.autoreply.models import AutoReplyContent, AutoReplyVersion

    rule = keyword_rule(account, "hello", "before")
    assert text_of(send_text(client, account, "hello", 1)) == "before"
    # What another web process does: change the rows, bump the version row, drop the cached version.
    AutoReplyContent.objects.filter(rule=rule).update(text="after")
    AutoReplyVersion.objects.filter(account=account).update(version="bumped-elsewhere")
    cache.delete(autoreply_matching._version_key(account.pk))
    monkeypatch.setattr(autoreply_matching, "VERSION_CHECK_INTERVAL", 0.0)
    assert text_of(send_text(client, account, "hello", 2)) == "after"


def test_contains_automaton_agrees_with_a_plain_search():
    import random as rnd

    from messaging.autoreply.matching import _Automaton

    rng = rnd.Random(7)
    alphabet = "abc你好"
    for _ in range(200):
        keywords = [("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4))), rank) for rank in range(rng.randint(1, 12))]
        inactive = frozenset(r for _, r in keywords if rng.random() < 0.2)
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 15)))
        expected = min((rank for word, rank in keywords if word in text and rank not in inactive), default=99)
        assert _Automaton(keywords).best(text, inactive, 99) == expected, (keywords, text, inactive)


def test_combined_regex_searches_keep_the_gil_for_at_most_the_held_timeout():
    """``regex`` releases the GIL around a search by default; among a web process's threads, taking it back costs more
    than a short search. A chunk's combined searches keep it, each for at most HELD_TIMEOUT."""
    import regex

    from messaging.autoreply import matching
    from messaging.autoreply.matching import CompiledRule, CompiledRules, _regex_chunks

    class Recording:
        def __init__(self, pattern):
            self.pattern, self.calls = pattern, []

        def search(self, text, **kwargs):
            self.calls.append(kwargs)
            return self.pattern.search(text, **kwargs)

        def match(self, text, **kwargs):
            self.calls.append(kwargs)
            return self.pattern.match(text, **kwargs)

    sources = [r"^item-1\s+\d+$", r"^order\s+(\d+)\s+status$"]
    items = [(rank, source, regex.compile(source, regex.IGNORECASE)) for rank, source in enumerate(sources)]
    compiled = CompiledRules(
        version="t", rules=[CompiledRule(i, str(i), "all", (), None) for i in range(2)], regexes=_regex_chunks(items)
    )
    (chunk,) = compiled.regexes
    chunk.any_of, chunk.combined = Recording(chunk.any_of), Recording(chunk.combined)
    assert compiled._match_regexes("order 8812345 status", frozenset(), 99, 0) == 1
    calls = chunk.any_of.calls + chunk.combined.calls
    assert len(calls) == 2
    assert all(call["concurrent"] is False and call["timeout"] <= matching.HELD_TIMEOUT for call in calls)


def test_combined_regexes_pick_the_same_rule_as_trying_each_in_order():
    import random as rnd

    import regex

    from messaging.autoreply.matching import CompiledRule, CompiledRules, _regex_chunks

    rng = rnd.Random(11)
    forms = [r"^{w}", r"{w}$", r"{w}\d+", r"\b{w}\b", r"{w}|{v}", r"(\w)\1[{w}]", r"[{w}]{{2}}"]
    for _ in range(20):
        items = []
        for rank in range(rng.randint(1, 150)):
            w = "".join(rng.choice("ab1") for _ in range(rng.randint(1, 3)))
            source = rng.choice(forms).format(w=w, v=w[::-1])
            items.append((rank, source, regex.compile(source, regex.IGNORECASE)))
        compiled = CompiledRules(
            version="t", rules=[CompiledRule(i, str(i), "all", (), None) for i in range(len(items))], regexes=_regex_chunks(items)
        )
        inactive = frozenset(r for r, _, _ in items if rng.random() < 0.1)
        for _ in range(10):
            text = "".join(rng.choice("ab1 B") for _ in range(rng.randint(0, 12)))
            expected = next((r for r, _, p in items if r not in inactive and p.search(text)), 999)
            assert compiled._match_regexes(text, inactive, 999, 0) == expected, (
                text,
                items[expected][1] if expected < 999 else None,
            )

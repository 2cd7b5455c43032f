"""What a rule must satisfy to be saved, and what happens when a stored rule misbehaves at match time."""

import logging
import time

import pytest
from django.core.exceptions import ValidationError

from messaging.autoreply.matching import rules_changed
from messaging.autoreply.models import AutoReplyContent, AutoReplyRule
from messaging.autoreply.services import rule_create
from messaging.autoreply.tests.factories import AutoReplyContentFactory, AutoReplyRuleFactory
from messaging.autoreply.validation import regex_problem
from messaging.inbound.models import InboundMessage
from messaging.inbound.tests.callback_client import post_callback


def text_xml(content: str, msg_id: int = 1) -> str:
    return (
        "<xml><ToUserName><![CDATA[gh_x]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName>"
        f"<CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def create(account, **kwargs):
    kwargs.setdefault("name", "r")
    kwargs.setdefault("trigger", "keyword")
    kwargs.setdefault("keywords", "hello")
    kwargs.setdefault("replies", [{"reply_type": "text", "text": "hi"}])
    return rule_create(account=account, **kwargs)


def errors_of(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(unclosed", "invalid regular expression"),
        ("(a|aa)+$", "too slow"),
        ("(x|xx)+y", "too slow"),
        ("a*", "matches an empty message"),
        ("x" * 301, "longer than"),
    ],
)
def test_bad_regex_is_rejected_and_nothing_is_saved(account, pattern, reason):
    with pytest.raises(ValidationError) as exc:
        create(account, keywords=pattern, match_type="regex")
    assert reason in errors_of(exc.value)
    assert "keywords" in exc.value.message_dict
    assert not AutoReplyRule.objects.exists()
    assert not AutoReplyContent.objects.exists()


@pytest.mark.parametrize("pattern", [r"^order\s*#?\d{4,}$", r"(价格|多少钱)", r"\bvip\b", r"^(hi|hello)[!！]*$"])
def test_ordinary_regexes_pass_quickly(pattern):
    started = time.monotonic()
    assert regex_problem(pattern) is None
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"keywords": ""}, "keywords", "at least one keyword"),
        ({"replies": [{"reply_type": "text", "text": "  "}]}, "text", "empty"),
        ({"replies": [{"reply_type": "text", "text": "长" * 700}]}, "text", "2048 bytes"),
        ({"replies": [{"reply_type": "image"}]}, "media_id", "required"),
        ({"replies": [{"reply_type": "voice", "media_id": "has spaces/and?"}]}, "media_id", "looks wrong"),
        ({"replies": [{"reply_type": "music", "music_url": "https://a.example.com/m.mp3"}]}, "thumb_media_id", "required"),
        ({"replies": [{"reply_type": "news", "articles": []}]}, "articles", "at least one article"),
        (
            {"replies": [{"reply_type": "news", "articles": [{"title": "t", "url": "javascript:alert(1)"}]}]},
            "articles",
            "http(s)",
        ),
        ({"replies": [{"reply_type": "news", "articles": [{"url": "https://example.com"}]}]}, "articles", "needs a title"),
        ({"replies": [{"reply_type": "transfer_customer_service", "kf_account": "nobody"}]}, "kf_account", "name@account"),
        ({"trigger": "click", "keywords": ""}, "event_key", "menu key"),
        ({"trigger": "scan", "event_key": "qrscene_1"}, "event_key", "without the 'qrscene_' prefix"),
        ({"trigger": "event"}, "event_name", "event name"),
        ({"active_from": "09:00"}, "active_until", "both ends"),
    ],
)
def test_invalid_fields_are_rejected_on_their_field(account, fields, field, message):
    with pytest.raises(ValidationError) as exc:
        create(account, **fields)
    assert field in exc.value.message_dict, exc.value.message_dict
    assert message in " ".join(exc.value.message_dict[field])
    assert not AutoReplyRule.objects.exists()


def news(n):
    return {"reply_type": "news", "articles": [{"title": f"t{i}", "url": f"https://example.com/{i}"} for i in range(n)]}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"replies": []}, "at least one reply"),
        ({"replies": [news(2)]}, "one article"),
        ({"trigger": "default", "replies": [news(2)]}, "one article"),
        ({"trigger": "subscribe", "replies": [news(9)]}, "at most eight"),
        (
            {"replies": [{"reply_type": "text", "text": "x"}, {"reply_type": "transfer_customer_service"}]},
            "cannot be combined",
        ),
        ({"trigger": "unsubscribe"}, "side effects only"),
    ],
)
def test_invalid_reply_sets_are_rejected_whole(account, fields, message):
    with pytest.raises(ValidationError) as exc:
        create(account, **fields)
    assert message in errors_of(exc.value)
    assert not AutoReplyRule.objects.exists()


def test_eight_articles_are_fine_for_events(account):
    rule = create(account, trigger="click", event_key="K", replies=[news(8)])
    assert len(rule.contents.get().articles) == 8


def test_transfer_may_be_one_of_several_random_replies(account):
    create(
        account, reply_mode="random", replies=[{"reply_type": "text", "text": "x"}, {"reply_type": "transfer_customer_service"}]
    )


# --- misbehaving rules at match time ----------------------------------------------------------------


def default_rule(account):
    rule_create(account=account, name="default", trigger="default", replies=[{"reply_type": "text", "text": "默认"}])


def stored_without_validation(account, pattern: str, priority: int = 10) -> AutoReplyRule:
    """A pattern that reached the table without the save checks (an older release, a raw SQL fix...)."""
    rule = AutoReplyRuleFactory(
        account=account, name="bad", trigger="keyword", keywords=pattern, match_type="regex", priority=priority
    )
    AutoReplyContentFactory(rule=rule, reply_type="text", text="never")
    rules_changed(account_id=account.pk)
    return rule


def assert_answered_past_a_catastrophic_regex(client, account, caplog, reply: str) -> None:
    """A text on which ``(a|aa)+$`` backtracks without end is answered with ``reply`` in time, the regex logged."""
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        response = post_callback(client, account, text_xml("a" * 40 + "!"))
    assert time.monotonic() - started < 1.5
    assert f"<Content><![CDATA[{reply}]]></Content>" in response.content.decode()
    assert any(r.getMessage() == "autoreply.regex_failed" for r in caplog.records)


def test_a_regex_timing_out_is_skipped_and_the_default_reply_goes_out_in_time(client, account, caplog):
    default_rule(account)
    stored_without_validation(account, "(a|aa)+$")
    assert_answered_past_a_catastrophic_regex(client, account, caplog, "默认")
    assert InboundMessage.objects.get().matched_rule.name == "default"


def test_a_chunk_slower_than_the_held_timeout_is_searched_pattern_by_pattern(client, account, caplog):
    """The combined search of a chunk holding a catastrophic pattern gives up after HELD_TIMEOUT; the patterns are
    then tried one by one (the GIL released), the slow one is skipped and the next rule answers."""
    default_rule(account)
    stored_without_validation(account, "(a|aa)+$", priority=20)  # tried first
    later = stored_without_validation(account, r"^a{40}!$", priority=10)
    AutoReplyContent.objects.filter(rule=later).update(text="later regex")
    rules_changed(account_id=account.pk)
    assert_answered_past_a_catastrophic_regex(client, account, caplog, "later regex")


def test_time_the_thread_spends_waiting_does_not_spend_the_regex_budget(client, account, monkeypatch):
    """On a busy machine a thread waits for a core between two patterns; the budget counts its own CPU time."""
    from types import SimpleNamespace

    from messaging.autoreply import matching

    default_rule(account)
    for n in range(3):
        stored_without_validation(account, rf"^item-{n}\s+\d+$", priority=10 + n)
    stored_without_validation(account, r"^order\s+(\d+)\s+status$", priority=1)
    late = AutoReplyRule.objects.get(keywords=r"^order\s+(\d+)\s+status$")
    AutoReplyContent.objects.filter(rule=late).update(text="late rule")
    rules_changed(account_id=account.pk)
    clock = [time.monotonic()]

    def waiting_monotonic():  # each reading finds a second gone by, as after a wait for a core
        clock[0] += 1.0
        return clock[0]

    monkeypatch.setattr(matching, "time", SimpleNamespace(monotonic=waiting_monotonic, thread_time=time.thread_time))
    response = post_callback(client, account, text_xml("order 8812345 status"))
    assert "<Content><![CDATA[late rule]]></Content>" in response.content.decode()


def test_a_later_rule_still_answers_after_a_failing_one(client, account):
    stored_without_validation(account, "(a|aa)+$", priority=10)
    create(account, name="later", keywords="a", match_type="contains")
    response = post_callback(client, account, text_xml("a" * 40 + "!"))
    assert "<Content><![CDATA[hi]]></Content>" in response.content.decode()


def test_an_uncompilable_stored_regex_is_skipped(client, account, caplog):
    default_rule(account)
    stored_without_validation(account, "(unclosed")
    with caplog.at_level(logging.WARNING):
        response = post_callback(client, account, text_xml("(unclosed"))
    assert "默认" in response.content.decode()
    assert any(r.getMessage() == "autoreply.regex_invalid" for r in caplog.records)


def test_a_broken_rule_set_still_gets_the_account_default_text(client, make_account, monkeypatch):
    account = make_account(default_reply_text="账号默认回复")

    def broken(*args, **kwargs):
        raise RuntimeError("cache backend down")

    monkeypatch.setattr("messaging.autoreply.matching.compiled_for", broken)
    response = post_callback(client, account, text_xml("hello"))
    assert "账号默认回复" in response.content.decode()

"""Every menu rule of API.md §6, each error naming the rule and the button."""

import pytest
from django.core.exceptions import ValidationError

from conftest import sample_json
from menus.validation import buttons_clean, buttons_errors, matchrule_errors

from .factories import two_level_tree


def _errors(tree):
    return [(e.path, e.field, e.errcode, e.message) for e in buttons_errors(tree)]


def test_a_valid_two_level_menu_has_no_errors():
    assert buttons_errors(two_level_tree()) == []
    assert buttons_clean(two_level_tree()) == two_level_tree()


def test_the_addconditional_samples_buttons_are_valid():
    assert buttons_errors(sample_json("api/menu_addconditional_request.json")["button"]) == []


@pytest.mark.parametrize(
    ("tree", "path", "field", "errcode", "words"),
    [
        ([], (), "", 40016, "1 to 3 top-level buttons; this one has 0"),
        ([{"type": "click", "name": "a", "key": "k"}] * 4, (), "", 40016, "this one has 4"),
        (
            [{"name": "服务", "sub_button": [{"type": "click", "name": "s", "key": "k"}] * 6}],
            (0,),
            "sub_button",
            40023,
            "Button 1 “服务”: at most 5 sub-buttons; it has 6",
        ),
        ([{"type": "click", "name": "", "key": "k"}], (0,), "name", 40018, "a name is required"),
        (
            [{"type": "click", "name": "一二三四五六", "key": "k"}],
            (0,),
            "name",
            40018,
            "the name is 18 bytes; a top-level name takes at most 16 bytes",
        ),
        (
            [{"name": "a", "sub_button": [{"type": "click", "name": "长" * 21, "key": "k"}]}],
            (0, 0),
            "name",
            40025,
            "Sub-button 1.1 “" + "长" * 21 + "”: the name is 63 bytes; a sub-button name takes at most 60 bytes",
        ),
        ([{"type": "click", "name": "a"}], (0,), "key", 40019, "a key is required"),
        (
            [{"type": "scancode_push", "name": "a", "key": "k" * 129}],
            (0,),
            "key",
            40019,
            "the key is 129 bytes; a key takes at most 128 bytes",
        ),
        (
            [{"name": "a", "sub_button": [{"type": "pic_weixin", "name": "s", "key": "键" * 43}]}],
            (0, 0),
            "key",
            40026,
            "the key is 129 bytes",
        ),
        ([{"type": "view", "name": "a"}], (0,), "url", 40020, "a URL is required"),
        (
            [{"type": "view", "name": "a", "url": "https://e.com/" + "a" * 1011}],
            (0,),
            "url",
            40020,
            "the URL is 1025 bytes; a URL takes at most 1024 bytes",
        ),
        (
            [{"name": "a", "sub_button": [{"type": "view", "name": "s", "url": "https://e.com/" + "a" * 1011}]}],
            (0, 0),
            "url",
            40027,
            "1025 bytes",
        ),
        (
            [{"type": "view", "name": "a", "url": "javascript:alert(1)"}],
            (0,),
            "url",
            40055,
            "must start with http:// or https://",
        ),
        (
            [{"name": "a", "sub_button": [{"type": "view", "name": "s", "url": "www.qq.com"}]}],
            (0, 0),
            "url",
            40054,
            "must start with http://",
        ),
        ([{"type": "call", "name": "a"}], (0,), "type", 40017, "unknown type “call”"),
        ([{"name": "a", "sub_button": [{"type": "call", "name": "s"}]}], (0, 0), "type", 40024, "unknown type"),
        ([{"name": "a"}], (0,), "type", None, "choose what it does"),
        ([{"type": "text", "name": "a", "value": "hi"}], (0,), "type", 40017, "exist only in the WeChat console"),
        (
            [{"type": "miniprogram", "name": "a", "url": "https://e.com/", "appid": "gh_123", "pagepath": "p"}],
            (0,),
            "appid",
            40166,
            "“wx” and 16 hex digits",
        ),
        (
            [{"type": "miniprogram", "name": "a", "url": "https://e.com/", "appid": "wx286b93c14bbf93aa"}],
            (0,),
            "pagepath",
            40165,
            "page path is required",
        ),
        (
            [{"type": "miniprogram", "name": "a", "appid": "wx286b93c14bbf93aa", "pagepath": "p"}],
            (0,),
            "url",
            40020,
            "fallback URL is required",
        ),
        ([{"type": "media_id", "name": "a"}], (0,), "media_id", 40007, "choose the media_id"),
        ([{"type": "view_limited", "name": "a", "media_id": "bad id!"}], (0,), "media_id", 40007, "is not a media_id"),
        ([{"type": "article_id", "name": "a"}], (0,), "article_id", 53600, "choose the article_id"),
        (
            [{"type": "article_view_limited", "name": "a", "article_id": "x" * 129}],
            (0,),
            "article_id",
            53600,
            "is not a article_id",
        ),
        (
            [{"name": "a", "sub_button": [{"name": "s", "sub_button": [{"type": "click", "name": "t", "key": "k"}]}]}],
            (0, 0),
            "sub_button",
            40023,
            "sub-buttons cannot have sub-buttons",
        ),
    ],
)
def test_each_rule_names_the_button_and_wechats_errcode(tree, path, field, errcode, words):
    found = [e for e in _errors(tree) if e[0] == path and e[1] == field]
    assert found, _errors(tree)
    assert found[0][2] == errcode
    assert words in found[0][3]
    if errcode:
        assert found[0][3].endswith(f"({errcode})")


def test_every_broken_rule_is_listed_at_once():
    tree = [{"type": "click", "name": "一二三四五六"}, {"type": "view", "name": "b", "url": "ftp://x"}]
    with pytest.raises(ValidationError) as refused:
        buttons_clean(tree)
    assert len(refused.value.messages) == 3


def test_a_parents_type_and_unused_fields_are_dropped():
    tree = [
        {
            "type": "click",
            "name": "a",
            "key": "k",
            "url": "https://x.com",
            "sub_button": [{"type": "view", "name": "s", "url": "https://e.com/", "key": "unused"}],
        }
    ]
    assert buttons_clean(tree) == [{"name": "a", "sub_button": [{"type": "view", "name": "s", "url": "https://e.com/"}]}]


def test_match_rules():
    assert matchrule_errors(kind="conditional", tag_id=None, client_platform_type="")[0].endswith("(65304).")
    assert matchrule_errors(kind="conditional", tag_id=100, client_platform_type="") == []
    assert matchrule_errors(kind="conditional", tag_id=None, client_platform_type="2") == []
    assert matchrule_errors(kind="default", tag_id=100, client_platform_type="")

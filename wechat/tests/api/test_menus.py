import copy

import pytest

from conftest import sample_json
from sandbox.endpoints import menus as sandbox_menus
from sandbox.models import SandboxFollower, SandboxMenu
from wechat.api import menus
from wechat.api.endpoints import Endpoint
from wechat.errors import WeChatError


def _conditional_sample():
    """The addconditional sample without the 'language' field WeChat now refuses."""
    body = sample_json("api/menu_addconditional_request.json")
    body["matchrule"].pop("language")
    return body


def test_menu_create_sends_the_buttons_as_wechats_body(account, received):
    buttons = _conditional_sample()["button"]
    menus.menu_create(account=account, buttons=buttons)
    assert received(Endpoint.MENU_CREATE) == [{"button": buttons}]
    assert SandboxMenu.objects.get(conditional=False).buttons[0]["key"] == "V1001_TODAY_MUSIC"


def test_the_create_samples_eight_top_buttons_are_40016(account):
    with pytest.raises(WeChatError) as refused:
        menus.menu_create(account=account, buttons=sample_json("api/menu_create_request.json")["button"])
    assert refused.value.errcode == 40016
    assert not SandboxMenu.objects.exists()


def test_every_type_of_the_create_sample_is_accepted_within_the_limits(account):
    sample = sample_json("api/menu_create_request.json")["button"]
    parents, leaves = sample[:3], sample[3:]
    # The sample's top-level leaves have names over 16 bytes: as sub-buttons (60 bytes) they pass.
    menus.menu_create(account=account, buttons=[*parents[:2], {"name": "更多", "sub_button": leaves}])
    stored = SandboxMenu.objects.get().buttons
    assert [s["type"] for s in stored[2]["sub_button"]] == [
        "location_select",
        "media_id",
        "view_limited",
        "article_id",
        "article_view_limited",
    ]
    menus.menu_create(account=account, buttons=parents[2:3])
    with pytest.raises(WeChatError) as refused:
        menus.menu_create(account=account, buttons=leaves[-1:])
    assert refused.value.errcode == 40018


def test_menu_get_parses_the_samples_shape(account, monkeypatch):
    sample = sample_json("api/menu_get_response.json")
    monkeypatch.setattr(menus.gateway, "call", lambda *args, **kwargs: copy.deepcopy(sample))
    config = menus.menu_get(account=account)
    assert config.default.menuid == "208396938"
    assert config.default.buttons == [{"type": "click", "name": "今日歌曲", "key": "V1001_TODAY_MUSIC"}]
    (conditional,) = config.conditional
    assert conditional.menuid == "208396993"
    assert conditional.buttons[1]["sub_button"][0] == {"type": "view", "name": "搜索", "url": "http://www.soso.com/"}
    assert conditional.matchrule["client_platform_type"] == "2" and conditional.matchrule["sex"] == "1"


def test_publish_and_pull_round_trip_through_the_sandbox(account, followers):
    sample = _conditional_sample()
    menus.menu_create(account=account, buttons=sample["button"])
    menuid = menus.menu_conditional_add(account=account, buttons=sample["button"][:1], matchrule=sample["matchrule"])
    assert menuid.isdigit()
    config = menus.menu_get(account=account)
    assert config.default.buttons == sample["button"]
    assert [(m.menuid, m.buttons, m.matchrule) for m in config.conditional] == [
        (menuid, sample["button"][:1], {"tag_id": "2", "client_platform_type": "2"})
    ]
    live = menus.menu_live(account=account)
    assert live.is_menu_open and live.buttons == sample["button"]


def test_the_live_menu_made_in_the_console_is_flattened(account, sandbox_app):
    sample = sample_json("api/get_current_selfmenu_info_response.json")
    sandbox_menus.console_menu_set(sandbox_app, sample["selfmenu_info"]["button"])
    live = menus.menu_live(account=account)
    assert live.is_menu_open
    assert [b["name"] for b in live.buttons] == ["button", "text", "photo"]
    assert [s["type"] for s in live.buttons[0]["sub_button"]] == ["view", "news", "video", "voice"]
    assert live.buttons[0]["sub_button"][1]["news_info"]["list"][0]["title"] == "MULTI_NEWS"
    # menu/get shows API-created menus only.
    assert menus.menu_get(account=account).default is None


def test_no_menu_reads_as_none(account):
    assert menus.menu_get(account=account) == menus.MenuConfig(default=None, conditional=[])
    assert menus.menu_live(account=account) == menus.LiveMenu(is_menu_open=False, buttons=[])


def test_the_samples_privacy_field_is_65320(account):
    sample = sample_json("api/menu_addconditional_request.json")
    menus.menu_create(account=account, buttons=sample["button"])
    with pytest.raises(WeChatError) as refused:
        menus.menu_conditional_add(account=account, buttons=sample["button"], matchrule=sample["matchrule"])
    assert refused.value.errcode == 65320


def test_a_conditional_menu_needs_a_default_one_first(account):
    with pytest.raises(WeChatError) as refused:
        menus.menu_conditional_add(account=account, buttons=_conditional_sample()["button"], matchrule={"tag_id": "2"})
    assert refused.value.errcode == 65303


def test_conditional_menus_are_limited(account, monkeypatch):
    monkeypatch.setattr(sandbox_menus, "MAX_CONDITIONAL_MENUS", 2)
    buttons = _conditional_sample()["button"]
    menus.menu_create(account=account, buttons=buttons)
    for platform in ("1", "2"):
        menus.menu_conditional_add(account=account, buttons=buttons, matchrule={"client_platform_type": platform})
    with pytest.raises(WeChatError) as refused:
        menus.menu_conditional_add(account=account, buttons=buttons, matchrule={"client_platform_type": "3"})
    assert refused.value.errcode == 65305


def test_trymatch_sends_the_samples_body_and_answers_by_tag(account, sandbox_app, received, followers):
    buttons = _conditional_sample()["button"]
    menus.menu_create(account=account, buttons=buttons)
    menus.menu_conditional_add(account=account, buttons=buttons[:1], matchrule={"tag_id": "100"})
    with pytest.raises(WeChatError) as refused:
        menus.menu_trymatch(account=account, user_id="weixin")
    assert refused.value.errcode == 65302
    assert received(Endpoint.MENU_TRYMATCH) == [sample_json("api/menu_trymatch_request.json")]
    tagged, plain = followers(2)
    SandboxFollower.objects.filter(openid=tagged).update(tagids=[100])
    assert menus.menu_trymatch(account=account, user_id=tagged) == buttons[:1]
    assert menus.menu_trymatch(account=account, user_id=plain) == buttons


def test_delete_conditional_then_everything(account):
    buttons = _conditional_sample()["button"]
    menus.menu_create(account=account, buttons=buttons)
    menuid = menus.menu_conditional_add(account=account, buttons=buttons, matchrule={"tag_id": "2"})
    menus.menu_conditional_delete(account=account, menuid=menuid)
    with pytest.raises(WeChatError) as refused:
        menus.menu_conditional_delete(account=account, menuid=menuid)
    assert refused.value.errcode == 65301
    menus.menu_conditional_add(account=account, buttons=buttons, matchrule={"tag_id": "2"})
    menus.menu_delete(account=account)
    assert not SandboxMenu.objects.exists()


@pytest.mark.parametrize(
    ("buttons", "errcode"),
    [
        ([], 40016),
        ([{"type": "click", "name": "x", "key": "k"}] * 4, 40016),
        ([{"name": "x", "sub_button": [{"type": "click", "name": "s", "key": "k"}] * 6}], 40023),
        ([{"type": "call", "name": "x", "key": "k"}], 40017),
        ([{"name": "x", "sub_button": [{"type": "call", "name": "s", "key": "k"}]}], 40024),
        ([{"type": "click", "name": "一二三四五六", "key": "k"}], 40018),
        ([{"name": "x", "sub_button": [{"type": "click", "name": "长" * 21, "key": "k"}]}], 40025),
        ([{"type": "click", "name": "x", "key": "k" * 129}], 40019),
        ([{"name": "x", "sub_button": [{"type": "click", "name": "s", "key": ""}]}], 40026),
        ([{"type": "view", "name": "x", "url": "https://e.com/" + "a" * 1011}], 40020),
        ([{"name": "x", "sub_button": [{"type": "view", "name": "s", "url": ""}]}], 40027),
        ([{"type": "view", "name": "x", "url": "ftp://example.com/"}], 40055),
        ([{"type": "miniprogram", "name": "x", "url": "https://e.com/", "appid": "", "pagepath": "p"}], 40166),
    ],
)
def test_wechats_menu_checks(account, buttons, errcode):
    with pytest.raises(WeChatError) as refused:
        menus.menu_create(account=account, buttons=buttons)
    assert refused.value.errcode == errcode
    assert refused.value.meaning_en != "Unknown error"

"""The menu admin: the editor's save and publish, WeChat's answers, pull, versions, rollback, pickers, try-match, links."""

import json

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from followers.tests.factories import FollowerFactory, TagFactory
from menus import services
from menus.models import Menu, MenuVersion
from messaging.autoreply.models import AutoReplyRule
from messaging.autoreply.services import rule_create
from sandbox.endpoints import menus as sandbox_menus
from sandbox.models import SandboxFollower, SandboxMenu
from sandbox.tests.factories import SandboxFaultFactory, SandboxFollowerFactory
from wechat.api.endpoints import Endpoint

from .factories import MenuFactory, two_level_tree


def url(name, *args):
    return reverse(f"admin:{name}", args=args)


def post_data(account, tree, **fields):
    return {
        "account": account.pk,
        "kind": "default",
        "name": "主菜单",
        "tag_id": "",
        "client_platform_type": "",
        "buttons_json": json.dumps(tree, ensure_ascii=False),
        **fields,
    }


@pytest.fixture
def music_rule(account):
    return rule_create(
        account=account,
        name="今日歌曲",
        trigger=AutoReplyRule.Trigger.CLICK,
        event_key="V1001_TODAY_MUSIC",
        replies=[{"reply_type": "text", "text": "月亮代表我的心"}],
    )


def test_save_and_publish_from_the_editor(admin_client, account, sandbox_app, django_capture_on_commit_callbacks):
    assert admin_client.get(url("menus_menu_add")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url("menus_menu_add"), {**post_data(account, two_level_tree()), "_publish": "1"})
    menu = Menu.objects.get()
    assert response.status_code == 302 and response["Location"] == url("menus_menu_change", menu.pk)
    assert [b["name"] for b in SandboxMenu.objects.get(app=sandbox_app).buttons] == ["今日歌曲", "菜单", "素材"]
    page = admin_client.get(url("menus_menu_change", menu.pk)).content.decode()
    assert "WeChat answered 0 ok: published as v1" in page
    listing = admin_client.get(url("menus_menu_changelist")).content.decode()
    assert ">v1</a>" in listing and ">live</span>" in listing and "#2f855a" in listing
    assert (
        json.loads(admin_client.get(url("menus_menu_change", menu.pk)).context["adminform"].form.initial["buttons_json"])
        == two_level_tree()
    )


def test_the_editor_names_the_broken_rule_and_saves_nothing(admin_client, account):
    tree = [{"type": "click", "name": "今日歌曲今日歌曲", "key": "k"}]
    response = admin_client.post(url("menus_menu_add"), post_data(account, tree))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Button 1 “今日歌曲今日歌曲”: the name is 24 bytes; a top-level name takes at most 16 bytes" in page
    assert response.context["adminform"].form.button_errors[0]["path"] == [0]
    assert not Menu.objects.exists()


def test_wechats_refusal_shows_its_errcode_and_meaning(admin_client, account, sandbox_app, django_capture_on_commit_callbacks):

    SandboxFaultFactory(app=sandbox_app, api=Endpoint.MENU_CREATE.path, kind="errcode", value=40055, remaining=1)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(url("menus_menu_add"), {**post_data(account, two_level_tree()), "_publish": "1"})
    page = admin_client.get(url("menus_menu_change", Menu.objects.get().pk)).content.decode()
    assert "WeChat answered 40055: 菜单按钮 URL 域名不合法 / Invalid button URL domain" in page
    assert "publish failed" in page


def test_a_live_menu_changed_in_the_console_is_shown_before_publishing_over_it(
    admin_client, account, sandbox_app, django_capture_on_commit_callbacks
):
    sandbox_menus.console_menu_set(sandbox_app, [{"type": "view", "name": "官网", "url": "https://example.com/"}])
    response = admin_client.post(url("menus_menu_add"), {**post_data(account, two_level_tree()), "_publish": "1"})
    menu = Menu.objects.get()
    assert response["Location"] == url("menus_menu_publish", menu.pk)
    page = admin_client.get(response["Location"]).content.decode()
    assert "The live menu is not the one last published from here" in page and "官网" in page
    assert SandboxMenu.objects.get().made_in_console
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(url("menus_menu_publish", menu.pk))
    assert not SandboxMenu.objects.get().made_in_console


def test_pull_warns_then_overwrites_the_editor(admin_client, account, sandbox_app):
    menu = services.menu_save(menu=MenuFactory.build(account=account), tree=two_level_tree())
    sandbox_menus.console_menu_set(sandbox_app, [{"type": "view", "name": "官网", "url": "https://example.com/"}])
    page = admin_client.get(url("menus_menu_pull") + f"?account={account.pk}").content.decode()
    assert "Pulling overwrites your unpublished edits" in page and "made in the WeChat console" in page
    response = admin_client.post(url("menus_menu_pull"), {"account": account.pk})
    assert response["Location"] == url("menus_menu_change", menu.pk)
    assert services.menu_clean(menu=menu, tree=[{"type": "view", "name": "官网", "url": "https://example.com/"}])
    from menus.selectors import menu_tree

    assert menu_tree(menu=menu) == [{"type": "view", "name": "官网", "url": "https://example.com/"}]


def test_versions_diff_and_roll_back_in_one_action(admin_client, account, sandbox_app, django_capture_on_commit_callbacks):
    menu = services.menu_save(menu=MenuFactory.build(account=account), tree=two_level_tree())
    with django_capture_on_commit_callbacks(execute=True):
        services.menu_publish_request(menu=menu)
    with django_capture_on_commit_callbacks(execute=True):
        services.menu_save(menu=menu, tree=[{"type": "view", "name": "官网", "url": "https://example.com/"}])
        services.menu_publish_request(menu=menu)
    second = MenuVersion.objects.get(number=2)
    page = admin_client.get(url("menus_menuversion_change", second.pk)).content.decode()
    assert "Roll back to v2" in page and 'id="menu-version-diff"' in page and "removed" in page
    first = MenuVersion.objects.get(number=1)
    assert admin_client.post(url("menus_menuversion_delete", first.pk)).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url("menus_menuversion_rollback", first.pk))
    assert response["Location"] == url("menus_menu_change", menu.pk)
    assert MenuVersion.objects.get(number=3).rolled_back_from == 1
    assert [b["name"] for b in SandboxMenu.objects.get().buttons] == ["今日歌曲", "菜单", "素材"]


def test_delete_the_live_menu(admin_client, account, sandbox_app, django_capture_on_commit_callbacks):
    menu = services.menu_save(menu=MenuFactory.build(account=account), tree=two_level_tree())
    with django_capture_on_commit_callbacks(execute=True):
        services.menu_publish_request(menu=menu)
    assert admin_client.get(url("menus_menu_delete_live") + f"?account={account.pk}").status_code == 200
    admin_client.post(url("menus_menu_delete_live"), {"account": account.pk})
    assert not SandboxMenu.objects.exists() and Menu.objects.filter(pk=menu.pk).exists()


def test_pickers_offer_click_rules_and_used_materials(admin_client, account, music_rule):
    services.menu_save(menu=MenuFactory.build(account=account), tree=two_level_tree())
    picked = admin_client.get(url("menus_menu_picker", "key") + f"?account={account.pk}&q=music").json()
    assert picked == {"results": [{"value": "V1001_TODAY_MUSIC", "label": "V1001_TODAY_MUSIC · 今日歌曲"}]}
    media = admin_client.get(url("menus_menu_picker", "media_id") + f"?account={account.pk}").json()
    assert media["results"][0]["value"] == "MEDIA_ID1"
    assert admin_client.get(url("menus_menu_picker", "secret") + f"?account={account.pk}").status_code == 403


def test_a_click_key_links_to_its_rule_and_back(admin_client, account, music_rule):
    menu = services.menu_save(menu=MenuFactory.build(account=account, name="主菜单"), tree=two_level_tree())
    editor = admin_client.get(url("menus_menu_change", menu.pk)).context["menu_editor"]
    assert editor["rules"][str(account.pk)]["V1001_TODAY_MUSIC"]["url"] == url("autoreply_autoreplyrule_change", music_rule.pk)
    rule_page = admin_client.get(url("autoreply_autoreplyrule_change", music_rule.pk)).content.decode()
    assert f'<a href="{url("menus_menu_change", menu.pk)}">主菜单 › 今日歌曲</a>' in rule_page


def test_try_match_from_the_follower_page(admin_client, account, sandbox_app, django_capture_on_commit_callbacks):
    default = services.menu_save(menu=MenuFactory.build(account=account), tree=two_level_tree())
    vip = services.menu_save(
        menu=MenuFactory.build(account=account, kind="conditional", name="VIP", tag_id=100), tree=two_level_tree()[:1]
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.menu_publish_request(menu=default)
        services.menu_publish_request(menu=vip)
    follower = FollowerFactory(account=account, openid="oVip000000000000000000000001", subscribed=True)
    SandboxFollowerFactory(app=sandbox_app, openid=follower.openid, tagids=[100])
    follower_page = admin_client.get(url("followers_follower_change", follower.pk)).content.decode()
    assert url("menus_menu_trymatch", follower.pk) in follower_page
    page = admin_client.get(url("menus_menu_trymatch", follower.pk)).content.decode()
    assert "WeChat shows this follower “VIP”" in page
    SandboxFollower.objects.filter(openid=follower.openid).update(subscribed=False)
    page = admin_client.get(url("menus_menu_trymatch", follower.pk)).content.decode()
    assert "WeChat answered 65302" in page


def test_operators_see_only_their_accounts_menus(client, account, make_account):
    menu = services.menu_save(menu=MenuFactory.build(account=account), tree=two_level_tree())
    user = User.objects.create_user("op", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="menus"))
    other = make_account(appid="wx00000000000000aa")
    other.operators.add(user)
    client.force_login(user)
    assert client.get(url("menus_menu_change", menu.pk)).status_code == 302  # the admin's "no such object" redirect
    assert client.get(url("menus_menu_publish", menu.pk)).status_code == 404
    assert client.get(url("menus_menu_picker", "key") + f"?account={account.pk}").status_code == 403
    assert client.get(url("menus_menu_pull") + f"?account={account.pk}").status_code == 403


def test_conditional_menus_in_the_editor_need_a_tag_or_platform(admin_client, account):

    TagFactory(account=account, name="VIP", wechat_id=100)
    tree = [{"type": "click", "name": "贵宾", "key": "VIP"}]
    refused = admin_client.post(url("menus_menu_add"), post_data(account, tree, kind="conditional", name="VIP"))
    assert "choose at least one (65304)" in refused.content.decode()
    assert "VIP (100)" in refused.content.decode()  # the tag picker
    admin_client.post(url("menus_menu_add"), post_data(account, tree, kind="conditional", name="VIP", tag_id="100"))
    admin_client.post(url("menus_menu_add"), post_data(account, tree, name="默认", tag_id="100", client_platform_type="1"))
    assert list(Menu.objects.order_by("id").values_list("kind", "tag_id", "client_platform_type")) == [
        ("conditional", 100, ""),
        ("default", None, ""),
    ]

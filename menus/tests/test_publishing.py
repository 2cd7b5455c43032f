"""Publishing, versions, rollback, pulling and conditional menus, against the sandbox and the samples."""

import pytest
from django.core.exceptions import ValidationError

from conftest import sample_json
from menus import services
from menus.models import Menu, MenuButton, MenuVersion
from menus.selectors import menu_tree
from sandbox.endpoints import menus as sandbox_menus
from sandbox.models import SandboxMenu
from sandbox.tests.factories import SandboxFaultFactory
from wechat.api.endpoints import Endpoint
from wechat.models import SyncStatus

from .factories import MenuFactory, two_level_tree


@pytest.fixture
def default_menu(account):
    return services.menu_save(menu=MenuFactory.build(account=account), tree=two_level_tree())


def _live(sandbox_app):
    return SandboxMenu.objects.get(app=sandbox_app, conditional=False).buttons


def test_saving_keeps_the_tree_as_rows(default_menu):
    assert MenuButton.objects.filter(menu=default_menu, parent=None).count() == 3
    assert MenuButton.objects.filter(menu=default_menu).count() == 8
    assert menu_tree(menu=default_menu) == two_level_tree()
    assert default_menu.has_unpublished_changes


def test_an_invalid_tree_is_not_saved(account):
    menu = MenuFactory.build(account=account)
    with pytest.raises(ValidationError) as refused:
        services.menu_save(menu=menu, tree=[{"type": "click", "name": "一二三四五六", "key": "k"}])
    assert "Button 1 “一二三四五六”" in refused.value.messages[0]
    assert not Menu.objects.exists()


def test_publish_runs_in_a_task_and_records_the_version(
    default_menu, sandbox_app, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.menu_publish_request(menu=default_menu, user=admin_user)
    default_menu.refresh_from_db()
    assert default_menu.sync_status == SyncStatus.SYNCED and not default_menu.has_unpublished_changes
    version = MenuVersion.objects.get()
    assert (version.number, version.source, version.published_by) == (1, "published", admin_user)
    assert version.buttons == two_level_tree()
    assert sandbox_menus._selfmenu(_live(sandbox_app))  # the sandbox holds it
    assert [b["name"] for b in _live(sandbox_app)] == ["今日歌曲", "菜单", "素材"]


def test_wechats_refusal_is_kept_with_its_meaning(account, default_menu, sandbox_app, django_capture_on_commit_callbacks):
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.MENU_CREATE.path, kind="errcode", value=40018, remaining=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.menu_publish_request(menu=default_menu)
    default_menu.refresh_from_db()
    assert default_menu.sync_status == SyncStatus.FAILED
    assert default_menu.last_error == "40018: 按钮名字长度超限 / Menu button name too long"
    assert not MenuVersion.objects.exists()


def test_a_transient_error_is_retried(account, default_menu, sandbox_app, django_capture_on_commit_callbacks):
    from celery.exceptions import Retry

    SandboxFaultFactory(app=sandbox_app, api=Endpoint.MENU_CREATE.path, kind="errcode", value=-1, remaining=1)
    with pytest.raises(Retry), django_capture_on_commit_callbacks(execute=True):
        services.menu_publish_request(menu=default_menu)
    default_menu.refresh_from_db()
    assert default_menu.sync_status == SyncStatus.PENDING and default_menu.last_error.startswith("-1:")
    services.menu_publish(menu_id=default_menu.pk, retrying=True)
    default_menu.refresh_from_db()
    assert default_menu.sync_status == SyncStatus.SYNCED
    assert MenuVersion.objects.count() == 1


def test_a_retried_conditional_publish_adopts_the_menu_an_unanswered_attempt_made(
    account, default_menu, sandbox_app, django_capture_on_commit_callbacks
):
    menu = services.menu_save(menu=MenuFactory.build(account=account, kind="conditional", tag_id=100), tree=two_level_tree()[:1])
    with django_capture_on_commit_callbacks(execute=True):
        services.menu_publish_request(menu=default_menu)
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.MENU_ADDCONDITIONAL.path, kind="timeout_after", remaining=1)
    with pytest.raises(Retry_()), django_capture_on_commit_callbacks(execute=True):
        services.menu_publish_request(menu=menu)
    assert SandboxMenu.objects.filter(conditional=True).count() == 1
    services.menu_publish(menu_id=menu.pk, retrying=True)
    menu.refresh_from_db()
    assert SandboxMenu.objects.filter(conditional=True).count() == 1
    assert menu.menuid == str(SandboxMenu.objects.get(conditional=True).menuid)


def Retry_():
    from celery.exceptions import Retry

    return Retry


def test_publish_and_pull_round_trip_against_the_samples(account, sandbox_app, django_capture_on_commit_callbacks):
    sample = sample_json("api/menu_addconditional_request.json")
    menu = services.menu_save(menu=MenuFactory.build(account=account), tree=sample["button"])
    with django_capture_on_commit_callbacks(execute=True):
        services.menu_publish_request(menu=menu)
    MenuButton.objects.all().delete()
    live = services.live_menus_fetch(account=account)
    assert live.default == sample["button"] and not live.made_in_console
    assert services.menus_pull(account=account, live=live) == []
    menu.refresh_from_db()
    assert menu_tree(menu=menu) == sample["button"]
    assert not menu.has_unpublished_changes


def test_pulling_a_console_menu_keeps_its_console_buttons_and_refuses_to_publish_them(account, sandbox_app):
    sample = sample_json("api/get_current_selfmenu_info_response.json")
    sandbox_menus.console_menu_set(sandbox_app, sample["selfmenu_info"]["button"])
    live = services.live_menus_fetch(account=account)
    assert live.made_in_console
    services.menus_pull(account=account, live=live)
    menu = Menu.objects.get(kind="default")
    news = MenuButton.objects.get(menu=menu, type="news")
    assert news.console_value["list"][0]["title"] == "MULTI_NEWS"
    assert MenuButton.objects.get(menu=menu, type="text").console_value == "This is text!"
    with pytest.raises(ValidationError) as refused:
        services.menu_publish_request(menu=menu)
    assert any("Sub-button 1.2 “news”" in m and "console" in m for m in refused.value.messages)


def test_pulling_the_samples_conditional_menu_drops_the_privacy_fields(account, monkeypatch):
    from wechat.api import menus as menu_api

    sample = sample_json("api/menu_get_response.json")
    monkeypatch.setattr(
        menu_api.gateway,
        "call",
        lambda account, endpoint, **kw: (
            sample
            if endpoint == Endpoint.MENU_GET
            else {"is_menu_open": 1, "selfmenu_info": {"button": sample["menu"]["button"]}}
        ),
    )
    warnings = services.menus_pull(account=account, live=services.live_menus_fetch(account=account))
    conditional = Menu.objects.get(kind="conditional")
    assert (conditional.menuid, conditional.tag_id, conditional.client_platform_type) == ("208396993", None, "2")
    assert "city, country, group_id, province, sex" in warnings[0] and "65320" in warnings[0]
    assert Menu.objects.get(kind="default").menuid == "208396938"


def test_the_live_menu_changed_in_the_console_is_reported_before_pulling(
    account, default_menu, sandbox_app, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.menu_publish_request(menu=default_menu)
    assert not services.live_drift(account=account).live_changed_elsewhere
    sandbox_menus.console_menu_set(sandbox_app, [{"type": "view", "name": "官网", "url": "https://example.com/"}])
    drift = services.live_drift(account=account)
    assert drift.live_changed_elsewhere and drift.published_number == 1
    assert [(r.label, r.change) for r in drift.from_published][:2] == [("Button 1", "changed"), ("Button 2", "removed")]


def test_rollback_publishes_an_earlier_version_in_one_action(
    account, default_menu, sandbox_app, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.menu_publish_request(menu=default_menu)
    with django_capture_on_commit_callbacks(execute=True):
        services.menu_save(menu=default_menu, tree=[{"type": "view", "name": "官网", "url": "https://example.com/"}])
        services.menu_publish_request(menu=default_menu)
    assert [b["name"] for b in _live(sandbox_app)] == ["官网"]
    first = MenuVersion.objects.get(number=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.menu_rollback(version=first, user=admin_user)
    third = MenuVersion.objects.get(number=3)
    assert (third.source, third.rolled_back_from, third.buttons) == ("rollback", 1, two_level_tree())
    assert [b["name"] for b in _live(sandbox_app)] == ["今日歌曲", "菜单", "素材"]
    assert menu_tree(menu=default_menu) == two_level_tree()


def test_a_conditional_menu_needs_the_default_one_published_first(account, django_capture_on_commit_callbacks):
    menu = services.menu_save(menu=MenuFactory.build(account=account, kind="conditional", tag_id=100), tree=two_level_tree()[:1])
    with django_capture_on_commit_callbacks(execute=True):
        services.menu_publish_request(menu=menu)
    menu.refresh_from_db()
    assert menu.sync_status == SyncStatus.FAILED and menu.last_error.startswith("65303:")


def test_a_conditional_menu_is_replaced_at_wechat_when_republished(
    account, default_menu, sandbox_app, django_capture_on_commit_callbacks
):
    menu = services.menu_save(
        menu=MenuFactory.build(account=account, kind="conditional", tag_id=100, client_platform_type="2"),
        tree=two_level_tree()[:1],
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.menu_publish_request(menu=default_menu)
        services.menu_publish_request(menu=menu)
    menu.refresh_from_db()
    first = menu.menuid
    assert SandboxMenu.objects.get(app=sandbox_app, conditional=True).matchrule == {"tag_id": "100", "client_platform_type": "2"}
    with django_capture_on_commit_callbacks(execute=True):
        services.menu_publish_request(menu=menu)
    menu.refresh_from_db()
    assert menu.menuid != first
    assert list(SandboxMenu.objects.filter(conditional=True).values_list("menuid", flat=True)) == [int(menu.menuid)]
    with django_capture_on_commit_callbacks(execute=True):
        services.menu_delete(menu=menu)
    assert not SandboxMenu.objects.filter(conditional=True).exists()


def test_wechats_conditional_menu_limit_is_shown(account, default_menu, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(sandbox_menus, "MAX_CONDITIONAL_MENUS", 1)
    menus = [
        services.menu_save(
            menu=MenuFactory.build(account=account, kind="conditional", client_platform_type=p), tree=two_level_tree()[:1]
        )
        for p in ("1", "2")
    ]
    with django_capture_on_commit_callbacks(execute=True):
        services.menu_publish_request(menu=default_menu)
        for menu in menus:
            services.menu_publish_request(menu=menu)
    for menu in menus:
        menu.refresh_from_db()
    assert menus[0].sync_status == SyncStatus.SYNCED
    assert menus[1].last_error.startswith("65305:")


def test_a_conditional_menu_matches_by_tag_or_platform_only(account):
    with pytest.raises(ValidationError) as refused:
        services.menu_save(menu=MenuFactory.build(account=account, kind="conditional"), tree=two_level_tree())
    assert "65304" in refused.value.messages[0]


def test_deleting_the_live_menu_keeps_the_drafts(account, default_menu, sandbox_app, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.menu_publish_request(menu=default_menu)
    services.menus_delete_live(account=account)
    assert not SandboxMenu.objects.exists()
    default_menu.refresh_from_db()
    assert default_menu.has_unpublished_changes and menu_tree(menu=default_menu) == two_level_tree()


def test_a_menu_being_published_is_not_queued_twice(default_menu):
    Menu.objects.filter(pk=default_menu.pk).update(sync_status=SyncStatus.SYNCING)
    with pytest.raises(ValidationError) as refused:
        services.menu_publish_request(menu=default_menu)
    assert "being published right now" in refused.value.messages[0]
    assert services.menu_publish(menu_id=default_menu.pk) is None  # only a pending menu is claimed

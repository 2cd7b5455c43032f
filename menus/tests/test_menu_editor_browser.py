"""In headless Chromium: build a two-level menu in the editor beside its phone preview, publish it, then tap a
button in the follower simulator and get the auto-reply rule's answer."""

from conftest import SCREENSHOTS, browser_test

pytestmark = browser_test

PASSWORD = "pw-menu-editor-1"


def test_operator_builds_and_publishes_a_menu_and_the_follower_taps_it(live_server, transactional_db, make_account, browser_page):
    from django.db import connections

    try:
        _build_publish_and_tap(live_server, make_account(), browser_page)
    finally:
        connections.close_all()


def _build_publish_and_tap(live_server, account, page):
    from django.contrib.auth.models import User

    from menus.models import Menu, MenuVersion
    from messaging.autoreply.models import AutoReplyRule
    from messaging.autoreply.services import rule_create
    from sandbox.models import SandboxMenu

    rule_create(
        account=account,
        name="点赞 Thumbs up",
        trigger=AutoReplyRule.Trigger.CLICK,
        event_key="V1001_GOOD",
        replies=[{"reply_type": "text", "text": "感谢您的点赞！Thanks for the thumbs up!"}],
    )
    User.objects.create_superuser("operator", password=PASSWORD)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/en/admin/login/?next=/en/admin/menus/menu/add/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#menu-editor")
    page.select_option("#id_account", str(account.pk))
    page.fill("#id_name", "主菜单 Main menu")

    # Button 1: a click whose name is too long for the top level; the counter says so before saving.
    page.click("#menu-add-top")
    page.fill("#menu-field-name", "今日歌曲今日歌曲")
    assert "24 / 16 bytes" in page.inner_text(".wxm-count.wxm-over")
    page.fill("#menu-field-key", "V1001_TODAY_MUSIC")
    # Button 2: a parent with two sub-buttons, the first answered by the rule.
    page.click("#menu-add-top")
    page.fill("#menu-field-name", "服务")
    page.click(".wxm-row[data-path='1'] .wxm-add-sub")
    page.fill("#menu-field-name", "赞一下我们")
    page.fill("#menu-field-key", "V1001_GOOD")
    assert "点赞 Thumbs up" in page.inner_text("#menu-rule-link")
    page.click(".wxm-row[data-path='1'] .wxm-add-sub")
    page.fill("#menu-field-name", "搜索 Search")
    page.select_option("#menu-field-type", "view")
    page.fill("#menu-field-url", "https://www.soso.com/")
    # The preview shows the bar, the open sub-menu of the selected button and its sub-buttons in order.
    assert page.inner_text("#menu-phone-bar .wxm-top.wxm-open .wxm-subs").split("\n") == ["赞一下我们", "搜索 Search"]
    page.screenshot(path=str(SCREENSHOTS / "menu_editor_building.png"), full_page=True)

    # Saving refuses the long name and says which button breaks which rule.
    page.click("#menu-save-publish")
    page.wait_for_selector(".errornote")
    assert "Button 1 “今日歌曲今日歌曲”: the name is 24 bytes; a top-level name takes at most 16 bytes" in page.content()
    assert page.locator("#menu-phone-bar .wxm-top.wxm-invalid").count() == 1
    page.screenshot(path=str(SCREENSHOTS / "menu_editor_rule_broken.png"), full_page=True)
    assert not Menu.objects.exists()

    page.click(".wxm-row[data-path='0']")
    page.fill("#menu-field-name", "今日歌曲")
    page.click("#menu-save-publish")
    page.wait_for_selector("#menu-last-answer")
    assert "WeChat answered 0 ok: published as v1" in page.inner_text("#menu-status")
    page.click("#menu-phone-bar .wxm-top[data-path='1']")
    page.screenshot(path=str(SCREENSHOTS / "menu_editor_published.png"), full_page=True)
    assert MenuVersion.objects.get().buttons[1]["sub_button"][0] == {"type": "click", "name": "赞一下我们", "key": "V1001_GOOD"}
    assert [b["name"] for b in SandboxMenu.objects.get().buttons] == ["今日歌曲", "服务"]

    # The follower's phone shows the published menu; the sub-menu opens like WeChat's and a tap gets the reply.
    page.goto(f"{live_server.url}/sandbox/simulator/?appid={account.appid}")
    page.wait_for_selector("#sim-menu")
    assert page.is_hidden(".sim-menu-subs")
    page.click(".sim-menu-parent")
    page.wait_for_selector(".sim-menu-sub:has-text('赞一下我们')")
    page.screenshot(path=str(SCREENSHOTS / "menu_simulator_open.png"), full_page=True)
    page.click(".sim-menu-sub:has-text('赞一下我们')")
    page.wait_for_selector(".bubble.them[data-channel=passive]")
    chat = page.inner_text("#chat")
    page.screenshot(path=str(SCREENSHOTS / "menu_simulator_reply.png"), full_page=True)
    assert "CLICK V1001_GOOD" in chat
    assert "感谢您的点赞！Thanks for the thumbs up!" in chat
    assert errors == []

    # The follower's page in the back office: "try match" asks WeChat which menu they see.
    from followers.models import Follower
    from sandbox.simulator import DEFAULT_OPENID

    follower, _ = Follower.objects.get_or_create(account=account, openid=DEFAULT_OPENID, defaults={"subscribed": True})
    page.goto(f"{live_server.url}/en/admin/followers/follower/{follower.pk}/change/")
    page.click("#follower-menu-trymatch")
    page.wait_for_selector("#menu-trymatch-result")
    assert "WeChat shows this follower “主菜单 Main menu”" in page.inner_text("#menu-trymatch-result")
    page.screenshot(path=str(SCREENSHOTS / "menu_trymatch.png"), full_page=True)

    # The operator's usual language: the same editor in Chinese.
    page.goto(f"{live_server.url}/admin/menus/menu/{Menu.objects.get().pk}/change/")
    page.click("#menu-phone-bar .wxm-top[data-path='1']")
    assert page.get_attribute("#menu-save-publish", "value") == "保存并发布"
    page.screenshot(path=str(SCREENSHOTS / "menu_editor_zh.png"), full_page=True)

    # Someone changes the menu in the WeChat console: pulling says so before overwriting the editor.
    from sandbox.endpoints.menus import console_menu_set

    console_menu_set(SandboxMenu.objects.get().app, [{"type": "view", "name": "官网", "url": "https://example.com/"}])
    page.goto(f"{live_server.url}/en/admin/menus/menu/pull/?account={account.pk}")
    assert "Button 1" in page.inner_text("#menu-drift") and "官网" in page.inner_text("#menu-live-phone")
    page.screenshot(path=str(SCREENSHOTS / "menu_pull_drift.png"), full_page=True)
    page.goto(f"{live_server.url}/en/admin/menus/menuversion/{MenuVersion.objects.get().pk}/change/")
    page.screenshot(path=str(SCREENSHOTS / "menu_version.png"), full_page=True)
    assert errors == []

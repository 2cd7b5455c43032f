"""The follower list fits a 1440 × 900 screen and a 390-px phone, and the language switch works both ways."""

from conftest import SCREENSHOTS, browser_test

pytestmark = browser_test

PASSWORD = "pw-browser-layout-1"

# Widths the page and the list may not exceed: scrollWidth beyond clientWidth is a horizontal scrollbar.
NO_HORIZONTAL_SCROLL = """() => {
  const page = document.scrollingElement;
  const list = document.querySelector('#changelist-form') || document.querySelector('#changelist');
  const table = document.querySelector('#result_list');
  const box = (el) => el ? {scroll: el.scrollWidth, client: el.clientWidth} : null;
  return {page: box(page), list: box(list), table_parent: box(table && table.parentElement)};
}"""

# Inline labels (tag chips, status badges) that the browser broke over two lines or more.
BROKEN_LABELS = """(selector) => Array.from(document.querySelectorAll(selector))
  .filter(el => el.getClientRects().length > 1 || el.getBoundingClientRect().height > 2 * parseFloat(getComputedStyle(el).lineHeight || 20))
  .map(el => el.textContent.trim())"""


def _follower_list(account, sandbox_app):
    from django.utils import timezone

    from followers.models import Follower
    from followers.tests.tagging import followers, synced_tag

    people = followers(account, sandbox_app, 30, subscribe_time=timezone.now(), last_interaction_at=timezone.now())
    tags = [synced_tag(account, sandbox_app, name) for name in ("VIP客户", "2024双十一活动参与者", "北京·朝阳区门店会员")]
    scenes = ["ADD_SCENE_SEARCH", "ADD_SCENE_QR_CODE", "ADD_SCENE_PROFILE_CARD", "ADD_SCENE_WECHAT_ADVERTISEMENT"]
    for i, person in enumerate(people):
        person.tags.set(tags[: i % 4])
        Follower.objects.filter(pk=person.pk).update(
            subscribe_scene=scenes[i % len(scenes)], remark="张三的备注名称很长一点" if i % 3 == 0 else ""
        )
    return people


def _log_in(page, live_server):
    from django.contrib.auth.models import User

    User.objects.create_superuser("operator", password=PASSWORD)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/followers/follower/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#result_list")


def _assert_fits(page):
    widths = page.evaluate(NO_HORIZONTAL_SCROLL)
    for name, box in widths.items():
        assert box is not None, name
        assert box["scroll"] <= box["client"], (name, widths)


def test_follower_list_fits_a_1440_screen_without_broken_labels(
    live_server, transactional_db, account, sandbox_app, browser_page
):
    _follower_list(account, sandbox_app)
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    _log_in(page, live_server)

    page.screenshot(path=str(SCREENSHOTS / "layout_followers_1440.png"))
    _assert_fits(page)
    assert page.evaluate(BROKEN_LABELS, "#result_list .wx-chip") == []
    assert page.evaluate(BROKEN_LABELS, "#result_list .wx-badge") == []
    # Scenes are named as the WeChat console names them, not by their constants.
    scenes = page.locator("#result_list td.field-subscribe_scene_label").all_inner_texts()
    assert "公众号搜索" in scenes and "扫描二维码" in scenes
    assert not any("ADD_SCENE" in scene for scene in scenes)

    page.goto(f"{live_server.url}/admin/")
    page.wait_for_selector("#account-dashboard")
    page.screenshot(path=str(SCREENSHOTS / "layout_index_1440.png"), full_page=True)
    assert page.evaluate("() => document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth")

    page.goto(f"{live_server.url}/admin/followers/tag/")
    page.wait_for_selector("#result_list")
    page.screenshot(path=str(SCREENSHOTS / "layout_tags_1440.png"))
    _assert_fits(page)
    assert page.evaluate(BROKEN_LABELS, "#result_list .wx-badge") == []


def test_follower_list_fits_a_phone(live_server, transactional_db, account, sandbox_app, browser_page):
    _follower_list(account, sandbox_app)
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    _log_in(page, live_server)

    page.screenshot(path=str(SCREENSHOTS / "layout_followers_390.png"))
    _assert_fits(page)
    assert page.locator("#result_list tbody tr").count() == 30
    assert page.evaluate(BROKEN_LABELS, "#result_list .wx-chip") == []


def test_language_switch_both_ways(live_server, transactional_db, account, sandbox_app, browser_page):
    _follower_list(account, sandbox_app)
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    _log_in(page, live_server)
    assert page.get_attribute("html", "lang") == "zh-hans"

    with page.expect_navigation():
        page.select_option("#language-switch select[name=language]", "en")
    assert page.url == f"{live_server.url}/en/admin/followers/follower/"
    assert page.get_attribute("html", "lang") == "en"
    assert "Followers" in page.inner_text("#nav-sidebar")
    page.screenshot(path=str(SCREENSHOTS / "layout_followers_en.png"))

    with page.expect_navigation():
        page.select_option("#language-switch select[name=language]", "zh-hans")
    assert page.url == f"{live_server.url}/admin/followers/follower/"
    assert page.get_attribute("html", "lang") == "zh-hans"
    assert "公众号与粉丝" in page.inner_text("#nav-sidebar")

    # On a phone the switch is still on the page, not hidden in a menu.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.is_visible("#language-switch select[name=language]")
    page.screenshot(path=str(SCREENSHOTS / "layout_language_390.png"))

"""The audit trail and the login lockout in headless Chromium: what an operator sees."""

from conftest import SCREENSHOTS, browser_test
from followers.tests.factories import TagFactory
from sandbox.tests.factories import SandboxFaultFactory
from wechat.api import tags as wechat_tags
from wechat.api.endpoints import Endpoint
from wechat.errors import WeChatError

pytestmark = browser_test


def _login(page, base, username, password):
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")


def test_an_operators_edit_and_the_wechat_calls_show_in_the_trail(
    live_server, transactional_db, make_account, browser_page, django_user_model
):
    from playwright.sync_api import expect

    account = make_account()
    django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-for-test-1")
    tag = TagFactory(account=account, name="VIP", wechat_id=100, sync_status="synced")
    wechat_tags.tag_create(account=account, name="广东")
    SandboxFaultFactory(api=Endpoint.TAGS_CREATE.path, kind="errcode", value=45157)
    try:
        wechat_tags.tag_create(account=account, name="广东")
    except WeChatError:
        pass

    page = browser_page
    _login(page, live_server.url, "boss", "pw-for-test-1")
    page.goto(f"{live_server.url}/admin/followers/tag/{tag.pk}/change/")
    page.fill("#id_name", "贵宾")
    page.click("input[name=_save]")
    page.goto(f"{live_server.url}/admin/accounts/auditentry/")
    rows = page.locator("#result_list tbody tr")
    text = page.inner_text("#result_list")
    assert "boss" in text and "名称、同步状态" in text
    assert "45157 标签名非法或与其他标签重名" in text and "已接受" in text and Endpoint.TAGS_CREATE.path in text
    assert rows.count() >= 3
    assert page.locator("select[name=action]").count() == 0 or "delete_selected" not in page.content()
    page.screenshot(path=str(SCREENSHOTS / "audit_trail_zh.png"), full_page=True)

    page.fill("#searchbar", "tags/create")
    page.press("#searchbar", "Enter")
    # The search reloads the list: wait for the searched page (counting at once reads a page still loading).
    page.wait_for_url("**/auditentry/?q=tags%2Fcreate")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    page.locator("#result_list tbody tr").first.locator("a").first.click()
    assert Endpoint.TAGS_CREATE.path in page.inner_text("#content")
    page.screenshot(path=str(SCREENSHOTS / "audit_entry_zh.png"), full_page=True)


def test_a_locked_out_login_says_so_in_chinese(live_server, transactional_db, browser_page, django_user_model, settings):
    django_user_model.objects.create_user("op", password="pw-for-test-1", is_staff=True)
    page = browser_page
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(page, live_server.url, "op", "wrong")
    _login(page, live_server.url, "op", "pw-for-test-1")
    assert "登录失败次数过多" in page.inner_text("#content")
    page.screenshot(path=str(SCREENSHOTS / "login_locked_zh.png"), full_page=True)

"""At 1440×900: a news reply is edited as ordered article rows (add, fill, move), never as JSON."""

from conftest import SCREENSHOTS, browser_test

pytestmark = browser_test


def test_news_reply_articles_are_edited_as_ordered_rows(live_server, transactional_db, make_account, browser_page):
    from django.contrib.auth.models import User

    from messaging.autoreply.models import AutoReplyRule

    account = make_account()
    User.objects.create_superuser("operator", password="pw-browser-news-1")
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/en/admin/login/?next=/en/admin/autoreply/autoreplyrule/add/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "pw-browser-news-1")
    page.click("input[type=submit]")
    page.wait_for_selector("#id_name")

    page.select_option("#id_account", str(account.pk))
    page.fill("#id_name", "关注欢迎 Welcome")
    page.select_option("#id_trigger", "subscribe")
    page.select_option("#id_contents-0-reply_type", "news")
    # The first reply's article rows, found by their field name (the theme's inline markup has no per-form id).
    articles = page.locator(".reply-articles[data-name='contents-0-articles']")
    assert articles.is_visible() and not page.is_visible("#id_contents-0-text")
    assert page.locator("textarea[name='contents-0-articles']").count() == 0

    rows = articles.locator(".reply-article")
    rows.nth(0).locator("[data-part=title]").fill("新品上市")
    rows.nth(0).locator("[data-part=url]").fill("https://example.com/new")
    articles.locator(".reply-article-add").click()
    rows.nth(1).locator("[data-part=title]").fill("会员须知")
    rows.nth(1).locator("[data-part=url]").fill("https://example.com/members")
    articles.locator(".reply-article-add").click()
    rows.nth(2).locator("[data-part=title]").fill("营业时间")
    rows.nth(2).locator("[data-part=url]").fill("https://example.com/hours")
    rows.nth(2).locator(".reply-article-up").click()  # 营业时间 now second
    page.screenshot(path=str(SCREENSHOTS / "autoreply_news_articles.png"), full_page=True)

    page.click("input[name=_save]")
    page.wait_for_selector("#result_list")
    content = AutoReplyRule.objects.get().contents.get()
    assert [a["title"] for a in content.articles] == ["新品上市", "营业时间", "会员须知"]
    assert content.articles[1]["url"] == "https://example.com/hours"

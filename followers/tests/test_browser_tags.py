"""An operator tags three followers from the follower list and sees the tag's count change after the sync."""

from conftest import SCREENSHOTS, browser_test
from messaging.inbound.tests.factories import InboundMessageFactory
from sandbox.tests.factories import SandboxFollowerFactory

pytestmark = browser_test


def test_operator_adds_three_followers_to_a_tag(live_server, transactional_db, account, sandbox_app, browser_page):
    from django.contrib.auth.models import User
    from django.utils import timezone

    from followers.models import Tag
    from followers.tests.tagging import followers, synced_tag
    from sandbox.models import SandboxFollower

    people = followers(account, sandbox_app, 5)
    tag = synced_tag(account, sandbox_app, "VIP客户")
    User.objects.create_superuser("operator", password="pw-browser-tags-1")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser_page

    page.goto(f"{live_server.url}/admin/login/?next=/admin/followers/follower/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "pw-browser-tags-1")
    page.click("input[type=submit]")
    page.wait_for_selector("#result_list")

    checkboxes = page.locator("#result_list input.action-select")
    for i in range(3):
        checkboxes.nth(i).check()
    chosen = set(page.locator("#result_list input.action-select:checked").evaluate_all("els => els.map(e => e.value)"))
    page.select_option("select[name=action]", "add_to_tag")
    page.click("button[name=index]")

    page.wait_for_selector("select[name=tag]")
    page.select_option("select[name=tag]", label="VIP客户")
    page.screenshot(path=str(SCREENSHOTS / "tags_pick_tag.png"), full_page=True)
    page.click("input[name=apply]")
    page.wait_for_selector("ul.messagelist")
    assert "VIP客户" in page.inner_text("ul.messagelist")
    page.screenshot(path=str(SCREENSHOTS / "tags_followers_tagged.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/followers/tag/")
    row = page.locator("#result_list tbody tr", has_text="VIP客户")
    assert row.locator("td.field-follower_count").inner_text().strip() == "3"
    page.screenshot(path=str(SCREENSHOTS / "tags_count_after_sync.png"), full_page=True)

    first = people[0]
    type(first).objects.filter(pk=first.pk).update(
        latitude="23.137466", longitude="113.352425", location_precision=120, remark="张三"
    )
    InboundMessageFactory(
        account=account,
        openid=first.openid,
        msg_type="text",
        content="你好，请问怎么报名？",
        dedupe_key="browser-1",
        raw_xml="<xml/>",
        create_time=timezone.now(),
    )
    page.goto(f"{live_server.url}/admin/followers/follower/{first.pk}/change/")
    assert "openstreetmap.org" in page.inner_html(".field-location")
    page.screenshot(path=str(SCREENSHOTS / "tags_follower_detail.png"), full_page=True)
    page.click("a.follower-thread")
    page.wait_for_selector("#kf-thread")
    assert "你好，请问怎么报名？" in page.inner_text("#kf-thread")

    assert {str(pk) for pk in tag.followers.values_list("pk", flat=True)} == chosen
    assert Tag.objects.get(pk=tag.pk).follower_count == 3
    tagged = set(SandboxFollower.objects.filter(tagids=[tag.wechat_id]).values_list("openid", flat=True))
    assert tagged == {p.openid for p in people if str(p.pk) in chosen}


def test_a_visitor_logs_in_with_wechat_oauth_on_the_sandbox(live_server, transactional_db, account, sandbox_app, browser_page):

    SandboxFollowerFactory(app=sandbox_app, openid="oBrowserVisitor01")
    page = browser_page
    page.goto(f"{live_server.url}/wechat/{account.appid}/oauth/start?scope=snsapi_userinfo")
    page.wait_for_selector("button.allow")
    page.select_option("select[name=openid]", "oBrowserVisitor01")
    page.screenshot(path=str(SCREENSHOTS / "oauth_sandbox_authorize.png"), full_page=True)
    page.click("button.allow")
    page.wait_for_selector("#openid")
    assert page.inner_text("#openid") == "oBrowserVisitor01"
    assert "微信用户or01" in page.inner_text("main")
    page.screenshot(path=str(SCREENSHOTS / "oauth_me.png"), full_page=True)

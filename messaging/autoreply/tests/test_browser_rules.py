"""An operator creates a keyword rule in the admin and sees it answer in the follower simulator."""

import io

from conftest import SCREENSHOTS, browser_test

pytestmark = browser_test


def test_operator_creates_a_keyword_rule_and_the_follower_gets_the_reply(live_server, transactional_db, browser_page):
    from django.db import connections

    try:
        _operator_creates_a_rule_and_the_follower_gets_the_reply(live_server, browser_page)
    finally:
        # Playwright's sync API runs this test in a greenlet with its own database connection: close it.
        connections.close_all()


def _operator_creates_a_rule_and_the_follower_gets_the_reply(live_server, page):
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from messaging.autoreply.models import AutoReplyRule

    call_command("sandbox_seed", stdout=io.StringIO())
    User.objects.create_superuser("operator", password="pw-browser-rules-1")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{live_server.url}/admin/login/?next=/admin/autoreply/autoreplyrule/add/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "pw-browser-rules-1")
    page.click("input[type=submit]")
    page.wait_for_selector("#id_name")

    from accounts.models import OfficialAccount

    account = OfficialAccount.objects.get(is_sandbox=True)
    page.select_option("#id_account", str(account.pk))
    page.fill("#id_name", "营业时间 Opening hours")
    page.select_option("#id_trigger", "keyword")
    page.fill("#id_keywords", "营业时间")
    page.select_option("#id_match_type", "contains")
    page.select_option("#id_contents-0-reply_type", "text")
    page.fill("#id_contents-0-text", "我们每天 9:00–18:00 营业。Open daily 9:00–18:00.")
    page.screenshot(path=str(SCREENSHOTS / "rules_admin_add.png"), full_page=True)
    page.click("input[name=_save]")
    page.wait_for_selector("#result_list")
    assert "营业时间 Opening hours" in page.inner_text("#result_list")
    page.screenshot(path=str(SCREENSHOTS / "rules_admin_list.png"), full_page=True)
    assert AutoReplyRule.objects.filter(name="营业时间 Opening hours", contents__text__startswith="我们每天").exists()

    page.goto(f"{live_server.url}/sandbox/simulator/")
    page.fill(".compose input[name=content]", "请问营业时间？")
    page.click("#send")
    page.wait_for_selector(".bubble.them[data-channel=passive]")
    chat = page.inner_text("#chat")
    page.screenshot(path=str(SCREENSHOTS / "rules_simulator_reply.png"), full_page=True)
    assert "请问营业时间？" in chat
    assert "我们每天 9:00–18:00 营业。" in chat

    # The follower's thread (customer service's one thread view) shows the exchange and the rule that answered.
    from sandbox.simulator import DEFAULT_OPENID

    page.goto(f"{live_server.url}/admin/kefu/conversation/thread/{account.pk}/{DEFAULT_OPENID}/")
    thread = page.inner_text("#kf-thread")
    page.screenshot(path=str(SCREENSHOTS / "rules_admin_thread.png"), full_page=True)
    assert thread.index("请问营业时间？") < thread.index("我们每天 9:00–18:00 营业。")
    assert "营业时间 Opening hours" in thread

"""The inbox and a thread in headless Chromium: open a conversation, answer with a text, see it delivered."""

from datetime import timedelta

from django.utils import timezone

from conftest import SCREENSHOTS, browser_test
from followers.tests.factories import FollowerFactory
from messaging.inbound.tests.factories import InboundMessageFactory
from messaging.kefu import services as customer_service
from messaging.kefu.models import Conversation, OutboundMessage
from sandbox import phone
from sandbox.models import SandboxApp, SandboxCall, SandboxDelivery
from sandbox.seeders.kefu import sandbox_seed_kf_account
from sandbox.tests.factories import SandboxKfAccountFactory
from wechat.api.endpoints import Endpoint

OPENID = "oFollower000000000000000001"

pytestmark = browser_test


def test_operator_answers_a_follower_from_the_inbox(live_server, transactional_db, make_account, browser_page, django_user_model):
    from django.core.cache import cache

    account = make_account()
    app = SandboxApp.objects.get(appid=account.appid)
    phone.follower_sends(app, OPENID, {"MsgType": "text", "Content": "你好，请问订单 1024 发货了吗？"})
    phone.follower_sends(app, OPENID, {"MsgType": "event", "Event": "CLICK", "EventKey": "V1001_ORDERS"})
    phone.follower_sends(app, "oFollower000000000000000002", {"MsgType": "text", "Content": "在吗"})
    cache.delete(f"kf:typing:{account.pk}:{OPENID}")
    django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-for-test-1")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page = browser_page
    page.goto(f"{live_server.url}/en/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-for-test-1")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/en/admin/kefu/conversation/")
    assert page.locator("#kf-inbox tbody tr").count() == 2
    assert page.locator(f"tr[data-openid='{OPENID}'] .kf-badge").inner_text() == "1"
    page.screenshot(path=str(SCREENSHOTS / "kf_inbox_en.png"), full_page=True)

    page.click(f"tr[data-openid='{OPENID}'] a")
    page.wait_for_selector("#kf-reply")
    with page.expect_response(lambda r: r.url.endswith("/typing/")) as typing:
        page.click("#id_content")
    assert typing.value.status == 200
    page.fill("#id_content", "已发货，预计明天送达。")
    page.screenshot(path=str(SCREENSHOTS / "kf_thread_en.png"), full_page=True)
    page.click("#kf-reply input[type=submit]")
    page.wait_for_selector(".kf-msg.out[data-status='sent']")
    page.screenshot(path=str(SCREENSHOTS / "kf_thread_sent_en.png"), full_page=True)

    assert SandboxDelivery.objects.get(channel="custom").payload["text"]["content"] == "已发货，预计明天送达。"
    assert OutboundMessage.objects.get().status == OutboundMessage.Status.SENT
    assert SandboxCall.objects.filter(api=Endpoint.CUSTOM_TYPING.path).count() == 1
    assert Conversation.objects.get(openid=OPENID).unread_count == 0

    page.goto(f"{live_server.url}/admin/kefu/conversation/")
    page.screenshot(path=str(SCREENSHOTS / "kf_inbox_zh.png"), full_page=True)

    # WeChat's clock moves past the window: the next reply comes back 45015, shown with its meaning.
    app.clock_offset = 49 * 3600
    app.save()
    page.click(f"tr[data-openid='{OPENID}'] a")
    page.check("input[name=kind][value=news]")
    assert page.is_hidden("#id_content") and page.is_visible("#id_url")
    page.fill("#id_title", "发货通知")
    page.fill("#id_url", "https://example.com/orders/1024")
    page.click("#kf-reply input[type=submit]")
    page.wait_for_selector(".kf-msg.out[data-status='failed'] .kf-error")
    assert "45015" in page.inner_text(".kf-msg.out[data-status='failed'] .kf-error")
    page.screenshot(path=str(SCREENSHOTS / "kf_thread_45015_zh.png"), full_page=True)

    # A follower whose last message is three days old: the reply box gives way to an explanation.
    old = "oFollower000000000000000003"
    InboundMessageFactory(
        account=account,
        openid=old,
        msg_type="text",
        content="上周的问题",
        dedupe_key="msg:old",
        raw_xml="<xml/>",
        create_time=timezone.now() - timedelta(days=3),
    )
    FollowerFactory(account=account, openid=old, last_interaction_at=timezone.now() - timedelta(days=3))
    customer_service.conversations_backfill(account=account)
    page.goto(f"{live_server.url}/en/admin/kefu/conversation/")
    assert "Over 48 hours" in page.inner_text(f"tr[data-openid='{old}']")
    page.click(f"tr[data-openid='{old}'] a")
    assert "more than 48 hours ago" in page.inner_text("#kf-closed")
    assert page.locator("#kf-reply").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "kf_thread_closed_en.png"), full_page=True)

    sandbox_seed_kf_account(account=account, app=app)
    SandboxKfAccountFactory(
        app=app, kf_account="shouhou@gh_7f083739789a", kf_id="1002", nickname="售后", kf_wx="worker_wx2", online_status=1
    )
    customer_service.kf_accounts_pull(account=account)
    page.goto(f"{live_server.url}/admin/kefu/kfaccount/")
    page.screenshot(path=str(SCREENSHOTS / "kf_accounts_zh.png"), full_page=True)

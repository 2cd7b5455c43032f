"""At 1440×900: a template push composed from pickers and keyword fields, previewed live, then confirmed with its
audience size before anything is sent."""

from conftest import SCREENSHOTS, browser_test

from .template_support import _template_settings, add_followers, make_tag, seed_template  # noqa: F401

pytestmark = browser_test


def pick(page, field: str, text: str) -> None:
    """Choose in a select2 picker by typing, as an operator does."""
    page.click(f".field-{field} .select2-selection")
    page.keyboard.type(text)
    page.click(f".select2-results__option:has-text('{text}')")


def test_template_push_with_live_preview_and_confirmation(live_server, transactional_db, make_account, browser_page):
    from django.contrib.auth.models import User

    from messaging.templatemsg.models import TemplatePush
    from sandbox.models import SandboxApp, SandboxDelivery

    account = make_account()
    app = SandboxApp.objects.get(appid=account.appid)
    seed_template(app, account)
    tag = make_tag(account, name="会员 VIP")
    add_followers(account, app, 6, tag=tag)
    operator = add_followers(account, app, 1, prefix="oOperator")[0]
    User.objects.create_superuser("pushop", password="pw-browser-push-1")
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    base = live_server.url + "/en/admin/templatemsg/templatepush/"
    page.goto(live_server.url + "/en/admin/login/")
    page.fill("#id_username", "pushop")
    page.fill("#id_password", "pw-browser-push-1")
    page.click("input[type=submit]")

    page.goto(base + "add/")
    page.fill("#id_name", "双十一会员通知")
    page.select_option("#id_account", str(account.pk))
    assert not page.is_visible("#id_data__thing1")
    pick(page, "template", "订单支付成功")
    # One field per keyword of the chosen template, labelled as the follower sees it.
    page.wait_for_selector("#id_data__thing1")
    assert page.inner_text("label[for=id_data__thing1]").startswith("商品名称")
    page.fill("#id_data__thing1", "巧克力")
    page.fill("#id_data__amount2", "39.8元")
    page.fill("#id_data__time3", "2014年9月22日")
    card = page.inner_text(".template-card")
    assert "订单支付成功" in card and "商品名称 巧克力" in card and "支付金额 39.8元" in card

    page.select_option("#id_audience", "openids")
    assert page.is_visible(".field-followers") and not page.is_visible(".field-tag")
    page.select_option("#id_audience", "all")
    assert not page.is_visible(".field-followers") and not page.is_visible(".field-tag")
    page.select_option("#id_audience", "tag")
    assert page.is_visible(".field-tag") and not page.is_visible(".field-followers")
    pick(page, "tag", "会员 VIP")
    page.screenshot(path=str(SCREENSHOTS / "template_push_form.png"), full_page=True)

    page.click("input[name=_save]")
    page.wait_for_selector("#push-preview-form")
    push = TemplatePush.objects.get()
    assert push.status == TemplatePush.Status.DRAFT
    assert not SandboxDelivery.objects.filter(channel="template").exists()

    page.click("#push-preview-form .select2-selection")
    page.keyboard.type("oOperator")
    page.click(f".select2-results__option:has-text('{operator}')")
    page.screenshot(path=str(SCREENSHOTS / "template_push_preview.png"), full_page=True)
    page.click("#push-preview-submit")
    page.wait_for_selector("text=Preview sent to")
    assert list(SandboxDelivery.objects.filter(channel="template").values_list("openid", flat=True)) == [operator]

    page.click("#push-preview-next")
    assert page.inner_text("#push-audience-size") == "6"
    assert "巧克力" in page.inner_text("#push-confirm")
    page.screenshot(path=str(SCREENSHOTS / "template_push_confirm.png"), full_page=True)
    page.check("#when-later")
    page.fill("#id_scheduled_at", "2001-01-01T09:00")
    page.click("#push-confirm-submit")
    page.wait_for_selector("#push-send-error")
    assert "in the past" in page.inner_text("#push-send-error")
    page.check("#when-now")
    page.click("#push-confirm-submit")
    page.wait_for_selector("text=Sending started")
    push.refresh_from_db()
    assert push.status in (TemplatePush.Status.SCHEDULED, TemplatePush.Status.SENDING, TemplatePush.Status.SENT)


def test_single_template_message_form_uses_pickers_and_keyword_fields(live_server, transactional_db, make_account, browser_page):
    from django.contrib.auth.models import User

    from messaging.templatemsg.models import TemplateMessage

    account = make_account()
    from sandbox.models import SandboxApp

    app = SandboxApp.objects.get(appid=account.appid)
    seed_template(app, account)
    follower = add_followers(account, app, 1, prefix="oBuyer")[0]
    User.objects.create_superuser("msgop", password="pw-browser-msg-1")
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(live_server.url + "/en/admin/login/")
    page.fill("#id_username", "msgop")
    page.fill("#id_password", "pw-browser-msg-1")
    page.click("input[type=submit]")

    page.goto(live_server.url + "/en/admin/templatemsg/templatemessage/add/")
    page.select_option("#id_account", str(account.pk))
    pick(page, "template", "订单支付成功")
    page.wait_for_selector("#id_data__time3")
    page.click(".field-openid .select2-selection")
    page.keyboard.type("oBuyer")
    page.click(f".select2-results__option:has-text('{follower}')")
    page.fill("#id_data__thing1", "牛奶")
    page.fill("#id_data__amount2", "12元")
    page.fill("#id_data__time3", "今天")
    assert "商品名称 牛奶" in page.inner_text(".template-card")
    page.screenshot(path=str(SCREENSHOTS / "template_message_form.png"), full_page=True)
    page.click("input[name=_save]")
    page.wait_for_selector("#result_list")
    message = TemplateMessage.objects.get()
    assert (message.openid, message.data["thing1"]) == (follower, {"value": "牛奶"})

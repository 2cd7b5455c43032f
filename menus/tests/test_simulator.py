"""The simulator's menu bar: the published menu (conditional by tags), tapped into CLICK/VIEW events the rules answer."""

from django.urls import reverse

from menus import services
from messaging.inbound.models import InboundMessage
from sandbox.models import SandboxDelivery, SandboxFollower, SandboxMenu
from sandbox.seeders.autoreply import sandbox_rules_seed
from sandbox.seeders.menus import DEMO_MENU, sandbox_menu_seed

from .factories import MenuFactory

OPENID = "oSandboxFollower0000000000001"


def _page(client, account):
    return client.get(reverse("sandbox:simulator") + f"?appid={account.appid}&openid={OPENID}").content.decode()


def _tap(client, account, path):
    return client.post(reverse("sandbox:simulator_menu"), {"appid": account.appid, "openid": OPENID, "path": path})


def test_the_seeded_menu_is_published_and_its_keys_have_rules(account, sandbox_app):
    sandbox_rules_seed(account=account, app=sandbox_app)
    sandbox_menu_seed(account=account, app=sandbox_app)
    sandbox_menu_seed(account=account, app=sandbox_app)
    assert SandboxMenu.objects.get(app=sandbox_app).buttons[0]["key"] == "V1001_TODAY_MUSIC"
    from messaging.autoreply.models import AutoReplyRule

    keys = set(AutoReplyRule.objects.filter(account=account, trigger="click").values_list("event_key", flat=True))
    clicks = {b["key"] for top in DEMO_MENU for b in [top, *top.get("sub_button", [])] if b.get("type") == "click"}
    assert clicks <= keys


def test_tapping_a_click_button_gets_the_rules_reply(admin_client, account, sandbox_app):
    sandbox_rules_seed(account=account, app=sandbox_app)
    sandbox_menu_seed(account=account, app=sandbox_app)
    page = _page(admin_client, account)
    assert 'id="sim-menu"' in page and "今日歌曲" in page and "赞一下我们" in page
    assert "menu key" not in page  # no key typed by hand any more
    assert _tap(admin_client, account, "0").status_code == 302
    sent, reply = SandboxDelivery.objects.filter(openid=OPENID).order_by("id")
    assert sent.payload["Event"] == "CLICK" and sent.payload["EventKey"] == "V1001_TODAY_MUSIC"
    assert "月亮代表我的心" in reply.payload["Content"]
    _tap(admin_client, account, "1.0")
    assert SandboxDelivery.objects.filter(channel="passive").last().payload["Content"].startswith("感谢您的点赞")


def test_tapping_a_link_sends_view_with_the_menuid(admin_client, account, sandbox_app):
    sandbox_menu_seed(account=account, app=sandbox_app)
    _tap(admin_client, account, "1.1")
    event = InboundMessage.objects.get(openid=OPENID)
    assert event.event == "VIEW" and event.event_key == "https://www.soso.com/"
    sent = SandboxDelivery.objects.get(channel="sent")
    assert sent.payload["MenuId"] == SandboxMenu.objects.get().menuid
    _tap(admin_client, account, "1.2")
    assert InboundMessage.objects.filter(event="location_select").exists()


def test_a_parent_or_a_stale_path_sends_nothing(admin_client, account, sandbox_app):
    sandbox_menu_seed(account=account, app=sandbox_app)
    _tap(admin_client, account, "1")
    _tap(admin_client, account, "7.1")
    assert not SandboxDelivery.objects.exists()


def test_a_tagged_follower_sees_the_conditional_menu(admin_client, account, sandbox_app, django_capture_on_commit_callbacks):
    sandbox_menu_seed(account=account, app=sandbox_app)
    vip = services.menu_save(
        menu=MenuFactory.build(account=account, kind="conditional", tag_id=100),
        tree=[{"type": "click", "name": "贵宾专享", "key": "VIP"}],
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.menu_publish_request(menu=vip)
    assert "贵宾专享" not in _page(admin_client, account)
    SandboxFollower.objects.update_or_create(app=sandbox_app, openid=OPENID, defaults={"tagids": [100]})
    page = _page(admin_client, account)
    assert "贵宾专享" in page and "今日歌曲" not in page and 'class="sim-menu-note"' in page

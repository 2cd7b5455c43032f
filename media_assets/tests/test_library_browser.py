"""In headless Chromium: upload an image material, see it in the grid, pick it for an auto-reply image reply."""

from conftest import SCREENSHOTS, browser_test
from media_assets.models import Material
from messaging.autoreply.models import AutoReplyRule
from sandbox import images, phone
from sandbox.models import SandboxApp, SandboxDelivery, SandboxMaterial

pytestmark = browser_test


def test_operator_uploads_an_image_and_picks_it_for_an_auto_reply(
    live_server, transactional_db, make_account, browser_page, django_user_model, tmp_path
):
    account = make_account()
    django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-for-test-1")
    picture = tmp_path / "spring-sale.png"
    picture.write_bytes(images.png(width=320, height=200, color="#fa5151", label="Spring sale"))
    too_big = tmp_path / "poster.png"
    too_big.write_bytes(images.png() + b"\x00" * (2 * 1024 * 1024 + 1))

    page = browser_page
    page.goto(f"{live_server.url}/en/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-for-test-1")
    page.click("input[type=submit]")

    # An oversize file is refused on the form, before anything is saved or sent.
    page.goto(f"{live_server.url}/en/admin/media_assets/material/add/")
    page.select_option("#id_account", str(account.pk))
    page.select_option("#id_kind", "image")
    page.set_input_files("#id_file", str(too_big))
    page.click("input[name=_save]")
    assert "WeChat takes image files up to 2 MB" in page.inner_text(".errorlist")
    assert not Material.objects.exists()

    page.select_option("#id_account", str(account.pk))
    page.set_input_files("#id_file", str(picture))
    page.click("input[name=_save]")
    tile = page.locator(".material-grid .material-tile").first
    tile.locator("img.media-preview").wait_for()
    page.wait_for_function("document.querySelector('.material-tile img.media-preview').complete")
    assert page.evaluate("document.querySelector('.material-tile img.media-preview').naturalWidth") == 320
    assert "Synced" in tile.inner_text() or "synced" in tile.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "media_library_grid_en.png"), full_page=True)
    material = Material.objects.get()
    assert material.usable and SandboxMaterial.objects.filter(media_id=material.media_id).exists()

    # The auto-reply form: choose the picture from the library instead of typing its media_id.
    page.goto(f"{live_server.url}/en/admin/autoreply/autoreplyrule/add/")
    page.select_option("#id_account", str(account.pk))
    page.fill("#id_name", "Spring sale picture")
    page.select_option("#id_trigger", "keyword")
    page.fill("#id_keywords", "sale")
    page.select_option("#id_contents-0-reply_type", "image")
    # The first reply's picker, found by its input (the theme's inline markup has no per-form id).
    inline = page.locator(".media-picker", has=page.locator("#id_contents-0-media_id"))
    inline.locator(".media-picker-library summary").first.click()
    inline.locator(f".media-picker-choice[data-media-id='{material.media_id}']").first.click()
    assert page.input_value("#id_contents-0-media_id") == material.media_id
    inline.locator(".media-picker-current img.media-preview").wait_for()
    page.screenshot(path=str(SCREENSHOTS / "media_library_autoreply_picker_en.png"), full_page=True)
    page.click("input[name=_save]")
    page.wait_for_url("**/autoreply/autoreplyrule/")
    reply = AutoReplyRule.objects.get(name="Spring sale picture").contents.get()
    assert (reply.reply_type, reply.media_id) == ("image", material.media_id)

    # The follower sends the keyword and gets the picture.
    app = SandboxApp.objects.get(appid=account.appid)
    phone.follower_sends(app, "oBrowser00000000000000000001", {"MsgType": "text", "Content": "sale"})
    delivered = SandboxDelivery.objects.get(channel="passive", openid="oBrowser00000000000000000001")
    assert delivered.payload["MsgType"] == "image" and material.media_id in str(delivered.payload)

    # The same grid in Chinese, the back office's first language.
    page.goto(f"{live_server.url}/admin/media_assets/material/")
    page.locator(".material-grid img.media-preview").first.wait_for()
    assert "从微信同步素材库" in page.content()
    page.screenshot(path=str(SCREENSHOTS / "media_library_grid_zh.png"), full_page=True)

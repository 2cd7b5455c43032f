"""The mass-send form at 1440×900 shows only the fields of the chosen message type and audience; pickers, not ids."""

from conftest import SCREENSHOTS, browser_test

pytestmark = browser_test

CONTENT_FIELDS = ["content", "media_id", "media_ids_text", "video_title", "card_id"]
AUDIENCE_FIELDS = ["tag", "followers", "openids_text", "filter_tag", "filter_scene"]


def visible(page, names) -> set[str]:
    """The fields whose row an operator can see (found by field name, whatever the theme's markup)."""
    return {
        name
        for name in names
        if page.evaluate(
            """(name) => {
                const input = document.querySelector(`[name="${name}"]`);
                const box = input.closest(".fieldBox, .form-row") || input;
                return box.checkVisibility();
            }""",
            name,
        )
    }


def test_mass_form_shows_the_fields_of_the_chosen_type_and_audience(live_server, transactional_db, make_account, browser_page):
    from django.contrib.auth.models import User

    from messaging.mass.models import MassMessage
    from messaging.mass.tests.test_mass import make_followers, make_tag
    from sandbox.models import SandboxApp

    account = make_account()
    app = SandboxApp.objects.get(appid=account.appid)
    tag = make_tag(account, wechat_id=120, name="会员 VIP")
    make_followers(account, app, 3, tag=tag)
    User.objects.create_superuser("massop", password="pw-browser-mass-2")
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    base = live_server.url + "/en/admin/"
    page.goto(base + "login/")
    page.fill("#id_username", "massop")
    page.fill("#id_password", "pw-browser-mass-2")
    page.click("input[type=submit]")

    page.goto(base + "mass/massmessage/add/")
    page.select_option("#id_account", str(account.pk))
    page.fill("#id_title", "Member news")
    assert visible(page, CONTENT_FIELDS) == {"content"}
    assert visible(page, AUDIENCE_FIELDS) == set()

    page.select_option("#id_msgtype", "image")
    assert visible(page, CONTENT_FIELDS) == {"media_ids_text"}
    page.select_option("#id_msgtype", "mpvideo")
    assert visible(page, CONTENT_FIELDS) == {"media_id", "video_title"}
    page.select_option("#id_msgtype", "wxcard")
    assert visible(page, CONTENT_FIELDS) == {"card_id"}
    page.select_option("#id_msgtype", "text")
    assert visible(page, CONTENT_FIELDS) == {"content"}

    page.select_option("#id_audience", "openids")
    assert visible(page, AUDIENCE_FIELDS) == {"followers", "openids_text"}
    page.select_option("#id_audience", "filter")
    assert visible(page, AUDIENCE_FIELDS) == {"filter_tag", "filter_scene"}
    page.select_option("#id_audience", "tag")
    assert visible(page, AUDIENCE_FIELDS) == {"tag"}

    # The tag is picked by name (select2 autocomplete), never typed as an id.
    page.fill("#id_content", "会员专享：本周五新品上市")
    page.click(".field-tag .select2-selection")
    page.keyboard.type("会员")
    page.click(".select2-results__option:has-text('会员 VIP')")
    page.screenshot(path=str(SCREENSHOTS / "mass_form_tag.png"), full_page=True)

    page.select_option("#id_audience", "openids")
    page.click(".field-followers .select2-selection")
    page.keyboard.type("oMass")
    page.wait_for_selector(".select2-results__option >> nth=2")
    page.screenshot(path=str(SCREENSHOTS / "mass_form_followers_picker.png"), full_page=False)
    page.keyboard.press("Escape")
    page.select_option("#id_audience", "tag")

    page.click("input[name=_save]")
    page.wait_for_selector("#mass-preview-form")
    message = MassMessage.objects.get()
    assert (message.audience, message.tag_id, message.status) == ("tag", tag.pk, "draft")
    page.click("#mass-preview-next")
    assert page.inner_text("#mass-audience-size") == "3"
    page.screenshot(path=str(SCREENSHOTS / "mass_form_confirm.png"), full_page=True)

"""In headless Chromium: a two-article draft with a cover, its phone preview, publishing, the published state,
an auto-reply that carries the published article, and the article card on the follower simulator."""

from conftest import SCREENSHOTS, browser_test
from media_assets.models import Draft, PublishedArticle, PublishJob
from media_assets.services.drafts import article_image_add

from .factories import cover_material, png_bytes


def article_form(page, index: int):
    """The inline form of the draft's article ``index`` (found by its title input: the theme's inline markup has
    no per-form id)."""
    return page.locator("#articles-group .form-group").filter(has=page.locator(f"#id_articles-{index}-title"))


pytestmark = browser_test


def test_operator_writes_previews_publishes_and_replies_with_an_article(
    live_server, transactional_db, make_account, browser_page, django_user_model, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    account = make_account()
    cover = cover_material(account, name="spring.png")
    image = article_image_add(account=account, content=png_bytes(colour=(250, 200, 0)), name="shelf.png")
    django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-for-test-1")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page = browser_page
    page.goto(f"{live_server.url}/en/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-for-test-1")
    page.click("input[type=submit]")

    # A two-article draft, both with the image material as cover, written in the editor.
    page.goto(f"{live_server.url}/en/admin/media_assets/draft/add/")
    page.select_option("#id_account", str(account.pk))
    page.click("#articles-group .add-row")
    for i, (title, text) in enumerate([("春季上新", "新品已经到店，欢迎选购。"), ("店长推荐", "本周店长推荐三款新品。")]):
        page.fill(f"#id_articles-{i}-title", title)
        page.fill(f"#id_articles-{i}-author", "小编")
        page.select_option(f"#id_articles-{i}-cover", str(cover.pk))
        editor = article_form(page, i).locator("[contenteditable=true]")
        editor.click()
        editor.type(text)
    # An image of this site (Article images) inserted by its local address: WeChat's URL replaces it at save.
    article_form(page, 0).locator(".prose-menubar__button[title*=igure]").first.click()
    dialog = page.locator("dialog.prose-editor-dialog[open]")
    dialog.locator("input").first.fill(live_server.url + image.file.url)
    dialog.locator("button", has_text="Insert").click()
    page.check("#id_articles-0-show_cover")
    page.check("#id_articles-0-need_open_comment")
    page.screenshot(path=str(SCREENSHOTS / "articles_draft_edit_en.png"), full_page=True)
    page.click("input[name=_save]")
    page.wait_for_selector("#result_list")
    draft = Draft.objects.get()
    assert draft.media_id and draft.sync_status == "synced"
    image.refresh_from_db()
    first, second = draft.articles.order_by("position")
    assert image.url and f'<img src="{image.url}"' in first.content and "新品已经到店，欢迎选购。" in first.content
    assert second.content == "<p>本周店长推荐三款新品。</p>"

    # The phone preview: 390 px wide, both articles, the cover from the library.
    page.goto(f"{live_server.url}/en/admin/media_assets/draft/{draft.pk}/preview/")
    assert page.locator("#draft-preview").bounding_box()["width"] == 390 + 16  # the phone's 8 px frame on each side
    assert page.locator("#draft-preview article").count() == 2
    assert "新品已经到店" in page.inner_text("#article-1")
    page.screenshot(path=str(SCREENSHOTS / "articles_preview.png"), full_page=True)

    # Publish from the list; PUBLISHJOBFINISH comes back to the callback and finishes the job.
    page.goto(f"{live_server.url}/en/admin/media_assets/draft/")
    page.check(f"input[name=_selected_action][value='{draft.pk}']")
    page.select_option("select[name=action]", "publish_selected")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist")
    job = PublishJob.objects.get()
    assert job.status == PublishJob.Status.PUBLISHED and job.result_from == "event"
    page.goto(f"{live_server.url}/en/admin/media_assets/publishjob/")
    assert "published (发布成功)" in page.inner_text("#result_list")
    page.goto(f"{live_server.url}/en/admin/media_assets/publishedarticle/")
    assert page.locator("#result_list tbody tr").count() == 2
    page.screenshot(path=str(SCREENSHOTS / "articles_published_en.png"), full_page=True)
    page.goto(f"{live_server.url}/admin/media_assets/draft/")
    assert "发布成功" in page.inner_text("#result_list")
    page.screenshot(path=str(SCREENSHOTS / "articles_drafts_zh.png"), full_page=True)

    # An auto-reply to "新品" with the first published article.
    first = PublishedArticle.objects.get(index=1)
    page.goto(f"{live_server.url}/en/admin/autoreply/autoreplyrule/add/")
    page.select_option("#id_account", str(account.pk))
    page.fill("#id_name", "新品")
    page.fill("#id_keywords", "新品")
    page.select_option("#id_contents-0-reply_type", "news")
    page.select_option("#id_contents-0-published_article", str(first.pk))
    page.click("input[name=_save]")
    page.wait_for_selector("#result_list")

    # The follower sends "新品" and sees the article card.
    page.goto(f"{live_server.url}/sandbox/simulator/?appid={account.appid}")
    page.fill("form.compose input[name=content]", "新品")
    page.click("#send")
    page.locator(".bubble.them").filter(has_text="春季上新").first.wait_for()
    page.screenshot(path=str(SCREENSHOTS / "articles_simulator_card.png"), full_page=True)

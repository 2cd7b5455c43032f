"""/api/docs/ in headless Chromium with every request outside this machine blocked: Swagger UI lists every operation."""

from urllib.parse import urlsplit

from conftest import SCREENSHOTS, browser_test
from tests.test_openapi import OPERATIONS

pytestmark = browser_test


def test_the_docs_render_offline_and_list_every_operation(live_server, transactional_db, browser_page):
    local = {urlsplit(live_server.url).hostname, "localhost", "127.0.0.1"}
    blocked: list[str] = []

    def only_local(route):
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).hostname in local:
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    page = browser_page
    page.route("**/*", only_local)
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".opblock")
    page.screenshot(path=str(SCREENSHOTS / "api_docs.png"), full_page=True)
    shown = {
        (block.locator(".opblock-summary-method").inner_text().lower(), block.locator("[data-path]").get_attribute("data-path"))
        for block in page.locator(".opblock").all()
    }
    assert shown == {(method, path) for path, method, _view in OPERATIONS}
    assert page.locator(".opblock-deprecated").count() == 1

    # An operation opened: its permission and its error answers.
    page.locator("#operations-mass-mass_messages_create .opblock-summary").click()
    page.wait_for_selector("#operations-mass-mass_messages_create .responses-table")
    opened = page.locator("#operations-mass-mass_messages_create").inner_text()
    assert "mass.add_massmessage" in opened and "Idempotency-Key" in opened
    assert all(code in opened for code in ("201", "400", "401", "403", "404", "422"))
    page.locator("#operations-mass-mass_messages_create").screenshot(path=str(SCREENSHOTS / "api_docs_operation.png"))
    assert blocked == []

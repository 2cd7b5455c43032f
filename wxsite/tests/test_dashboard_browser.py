"""The admin front page in headless Chromium at desktop and phone widths: charts drawn with their data."""

from django.contrib.auth.models import User
from django.test import Client

from conftest import SCREENSHOTS, browser_test
from messaging.inbound.tests.callback_client import post_callback

from .dashboard_data import history

pytestmark = browser_test

DRAWN = """(id) => {
  const canvas = document.getElementById(id);
  const chart = Chart.getChart(canvas);
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) painted++;
  return {width: canvas.width, painted, points: chart.data.datasets.map((d) => d.data.length), labels: chart.data.labels.length};
}"""


def test_dashboard_charts_are_drawn_with_data(live_server, transactional_db, make_account, browser_page):
    account = make_account()
    history(account, post_callback=lambda xml: post_callback(Client(), account, xml))
    User.objects.create_superuser("boss", "boss@example.com", "pw-for-test-1")
    page = browser_page
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-for-test-1")
    page.click("input[type=submit]")

    for width, height, name in ((1440, 900, "desktop"), (390, 844, "phone")):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/admin/")
        page.wait_for_function("typeof Chart !== 'undefined' && Chart.getChart(document.getElementById('chart-sends'))")
        growth = page.evaluate(DRAWN, "chart-growth")
        assert growth["labels"] == 30 and growth["points"] == [30, 30, 30, 30]
        assert growth["width"] > 0 and growth["painted"] > 1000
        messages = page.evaluate(DRAWN, "chart-messages")
        assert messages["labels"] == 30 and messages["painted"] > 500
        assert page.evaluate(DRAWN, "chart-sends")["points"] == [1, 1]
        assert page.locator("#api-errors tr[data-errcode='45009']").count() == 1
        # Nothing wider than the screen.
        page.screenshot(path=str(SCREENSHOTS / f"dashboard_{name}.png"), full_page=True)
        wide = page.evaluate(
            """(w) => [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > w + 1).slice(0, 8).map((e) => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""",
            width,
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= width, wide
        page.screenshot(path=str(SCREENSHOTS / f"dashboard_{name}.png"), full_page=True)

"""The admin front page: a row per account and the chosen account's charts and tables."""

import json
import re

import pytest
from django.contrib.auth.models import User

from messaging.inbound.tests.callback_client import post_callback
from wechat.api.endpoints import Endpoint
from wechat.errors import describe

from .dashboard_data import history


@pytest.fixture
def board(client, account):
    data = history(account, post_callback=lambda xml: post_callback(client, account, xml))
    client.force_login(User.objects.create_superuser("boss", "boss@example.com", "pw"))
    return data


def _page(client) -> str:
    return client.get("/en/admin/").content.decode()


def test_messages_today_counts_follower_messages_not_send_results(client, account, board):
    page = _page(client)
    assert re.search(r'class="messages-today"[^>]*>5</a>', page)


def test_the_charts_get_a_month_of_data(client, account, board):
    page = _page(client)
    data = json.loads(re.search(r'<script id="wx-board-data" type="application/json">(.*?)</script>', page, re.S).group(1))
    growth = data["growth"]
    assert growth["source"] == "datacube" and len(growth["labels"]) == 30
    assert all(isinstance(n, int) for n in growth["series"]["cumulate"]) and growth["series"]["cumulate"][-1] > 0
    assert sum(data["messages"]["series"]["text"]) == 4 and sum(data["messages"]["series"]["image"]) == 3
    assert "event" not in data["messages"]["series"]
    assert data["sends"]["delivered"] == [37] and data["sends"]["failed"] == [3]
    assert '<canvas id="chart-growth"' in page and "/static/wxsite/vendor/chart.umd.min.js" in page


def test_keywords_errors_and_token_health(client, account, board):
    page = _page(client)
    keywords = re.search(r'<table class="wx-table" id="top-keywords">.*?</table>', page, re.S).group(0)
    assert "<td>营业时间</td><td>2</td>" in keywords
    errors = re.search(r'<table class="wx-table" id="api-errors">.*?</table>', page, re.S).group(0)
    assert 'data-errcode="45009"' in errors and describe(45009).en in errors and Endpoint.TAGS_CREATE.path in errors
    token = re.search(r'<div class="wx-card" id="token-health">.*?</div>', page, re.S).group(0)
    assert "Expires in" in token and Endpoint.STABLE_TOKEN.path in token and "of 500000 calls today" in token


def test_an_operator_sees_only_their_accounts(client, account, make_account):
    other = make_account(appid="wx00000000000000aa")
    user = User.objects.create_user("op", password="pw", is_staff=True)
    other.operators.add(user)
    client.force_login(user)
    page = client.get(f"/en/admin/?account={account.pk}").content.decode()
    assert (
        f'data-account="{account.pk}"' not in page
        and f'<section id="account-charts" class="wx-board" data-account="{other.pk}"' in page
    )

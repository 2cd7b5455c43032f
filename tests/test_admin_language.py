import pytest
from django.contrib.auth.models import User


@pytest.fixture
def operator_client(client, db):
    client.force_login(User.objects.create_superuser("admin", password="pw-for-tests-1"))
    return client


def test_admin_defaults_to_simplified_chinese(operator_client):
    html = operator_client.get("/admin/").content.decode()
    assert '<html lang="zh-hans"' in html
    assert "站点管理" in html
    assert 'id="language-switch"' in html


def test_english_is_one_switch_away(operator_client):
    response = operator_client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    assert response.status_code == 302
    assert response["Location"] == "/en/admin/"
    html = operator_client.get(response["Location"]).content.decode()
    assert '<html lang="en"' in html and "Site administration" in html


def test_admin_app_list_is_translated(operator_client):
    html = operator_client.get("/admin/").content.decode()
    assert "公众号" in html and "消息记录" in html


def test_index_shows_the_account_dashboard(operator_client, account):
    html = operator_client.get("/en/admin/").content.decode()
    assert 'id="account-dashboard"' in html and account.name in html


def test_chinese_is_one_switch_away_from_the_english_admin(operator_client):
    # The switch on /en/admin/ posts its own address as `next`; the browser still says it prefers Chinese.
    response = operator_client.post(
        "/i18n/setlang/", {"language": "zh-hans", "next": "/en/admin/"}, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9"
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    html = operator_client.get(response["Location"]).content.decode()
    assert '<html lang="zh-hans"' in html and "站点管理" in html


def test_switching_language_keeps_the_page_and_its_query(operator_client):
    response = operator_client.post(
        "/i18n/setlang/", {"language": "zh-hans", "next": "/en/admin/followers/follower/?subscribed__exact=1"}
    )
    assert response["Location"] == "/admin/followers/follower/?subscribed__exact=1"
    response = operator_client.post(
        "/i18n/setlang/", {"language": "en", "next": "/admin/followers/follower/?subscribed__exact=1"}
    )
    assert response["Location"] == "/en/admin/followers/follower/?subscribed__exact=1"


def test_the_switch_falls_back_to_the_referring_page(operator_client):
    response = operator_client.post(
        "/i18n/setlang/", {"language": "zh-hans"}, HTTP_REFERER="http://testserver/en/admin/followers/tag/"
    )
    assert response["Location"] == "http://testserver/admin/followers/tag/"

import pytest

from followers.tests.factories import FollowerFactory


@pytest.mark.parametrize("model", ["follower", "tag", "followeroperation", "syncjob"])
def test_old_admin_list_addresses_redirect_to_followers(client, model):
    response = client.get(f"/admin/accounts/{model}/?q=x")
    assert response.status_code == 301
    assert response["Location"] == f"/admin/followers/{model}/?q=x"


@pytest.mark.django_db
def test_an_old_follower_bookmark_opens_the_same_follower(admin_client):
    follower = FollowerFactory()
    response = admin_client.get(f"/en/admin/accounts/follower/{follower.pk}/change/", follow=True)
    assert response.redirect_chain == [(f"/en/admin/followers/follower/{follower.pk}/change/", 301)]
    assert response.status_code == 200
    assert follower.openid in response.content.decode()


def test_the_account_admin_is_not_redirected(client):
    assert client.get("/admin/accounts/officialaccount/").status_code == 302  # to the login page

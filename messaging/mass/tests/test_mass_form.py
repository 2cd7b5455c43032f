"""The mass-send form: a message WeChat would refuse is answered with a form error on the field at fault, never a 500."""

import pytest
from django.contrib.auth import get_user_model

from messaging.mass.models import MassMessage
from messaging.mass.tests.test_mass import make_tag, openid
from messaging.mass.tests.test_mass_admin import BASE, compose


@pytest.fixture
def admin_client_en(client, db):
    client.force_login(get_user_model().objects.create_user("boss", is_staff=True, is_superuser=True))
    return client


def posted_errors(client, data) -> dict:
    response = client.post(BASE + "add/", data)
    assert response.status_code == 200
    assert not MassMessage.objects.exists()
    return response.context["adminform"].form.errors


def test_an_openid_list_of_one_is_a_form_error_on_the_openids(admin_client_en, account):
    data = compose(account, make_tag(account), audience="openids", tag="", openids_text=openid(1))
    errors = posted_errors(admin_client_en, data)
    assert "at least 2 OpenIDs" in errors["followers"][0]


def test_an_image_send_without_images_is_a_form_error_on_the_images(admin_client_en, account):
    errors = posted_errors(admin_client_en, compose(account, make_tag(account), msgtype="image", content=""))
    assert "at least one image" in errors["media_ids_text"][0]


def test_a_filter_send_without_a_condition_is_a_form_error_on_the_filter(admin_client_en, account):
    errors = posted_errors(admin_client_en, compose(account, make_tag(account), audience="filter", tag=""))
    assert "at least one filter condition" in errors["filter_tag"][0]


def test_a_filter_send_with_a_condition_is_saved(admin_client_en, account):
    tag = make_tag(account)
    response = admin_client_en.post(BASE + "add/", compose(account, tag, audience="filter", tag="", filter_tag=tag.pk))
    assert response.status_code == 302
    assert MassMessage.objects.get().follower_filter == {"tag": tag.pk}


def test_the_subscribe_scene_is_chosen_from_wechats_list(admin_client_en, account):
    tag = make_tag(account)
    data = compose(account, tag, audience="filter", tag="", filter_scene="ADD_SCENE_QR_CODE")
    assert admin_client_en.post(BASE + "add/", data).status_code == 302
    assert MassMessage.objects.get().follower_filter == {"subscribe_scene": "ADD_SCENE_QR_CODE"}
    MassMessage.objects.all().delete()
    errors = posted_errors(admin_client_en, compose(account, tag, audience="filter", tag="", filter_scene="QR"))
    assert "filter_scene" in errors

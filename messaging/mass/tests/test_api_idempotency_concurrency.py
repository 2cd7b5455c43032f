"""Concurrent retries with one Idempotency-Key on PostgreSQL: one message, every caller gets its answer."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import TokenFactory
from messaging.mass.models import IdempotencyKey, MassMessage
from messaging.mass.tests.test_mass_concurrency import run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_posts_with_one_key_create_one_mass_send_and_all_get_its_id(account):
    user = User.objects.create_user("sender")
    user.user_permissions.add(Permission.objects.get(codename="add_massmessage"))
    account.operators.add(user)
    token = TokenFactory(user=user).key
    body = {
        "title": "t",
        "msgtype": "text",
        "content": "hi",
        "audience": "all",
        "scheduled_at": (timezone.now() + timedelta(hours=1)).isoformat(),
    }

    def post():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        response = client.post(
            f"/api/v1/accounts/{account.appid}/mass-messages/", body, format="json", HTTP_IDEMPOTENCY_KEY="once"
        )
        return response.status_code, response.json().get("id")

    results = run_in_threads(4, post)

    assert MassMessage.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
    assert set(results) == {(201, MassMessage.objects.get().pk)}

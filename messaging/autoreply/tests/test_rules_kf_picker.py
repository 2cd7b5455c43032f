"""A transfer-to-customer-service reply names its agent from the operator's KF accounts, never a typed id."""

from django.contrib.auth.models import Permission, User

from messaging.autoreply.models import AutoReplyRule
from messaging.kefu.tests.factories import KfAccountFactory

from .test_rules_admin import ADD_URL, form_data


def transfer(kf_account: str) -> list[dict]:
    return [{"reply_type": "transfer_customer_service", "kf_account": kf_account}]


def test_the_agent_is_chosen_among_the_operators_kf_accounts(client, account, make_account):
    other = make_account(appid="wx0b0b0b0b0b0b0b0b")
    KfAccountFactory(account=account, kf_account="alice@gh_7f083739789a", nickname="Alice")
    KfAccountFactory(account=other, kf_account="bravo@gh_0b0b", nickname="Bravo")
    user = User.objects.create_user("op", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__regex=r"_(autoreplyrule|autoreplycontent)$"))
    account.operators.add(user)
    client.force_login(user)

    page = client.get(ADD_URL).content.decode()
    assert "Alice · alice@gh_7f083739789a" in page
    assert "bravo@gh_0b0b" not in page

    response = client.post(ADD_URL, form_data(account, trigger="subscribe", replies=transfer("bravo@gh_0b0b")))
    assert response.status_code == 200 and not AutoReplyRule.objects.exists()

    response = client.post(ADD_URL, form_data(account, trigger="subscribe", replies=transfer("alice@gh_7f083739789a")))
    assert response.status_code == 302
    assert AutoReplyRule.objects.get().contents.get().kf_account == "alice@gh_7f083739789a"

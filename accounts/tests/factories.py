import factory
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

from accounts.models import OfficialAccount


class OfficialAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OfficialAccount
        django_get_or_create = ("appid",)

    name = factory.Sequence(lambda n: f"公众号 {n}")
    appid = factory.Sequence(lambda n: f"wx{n:016x}")
    app_secret = "secret-for-tests"
    token = "test"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"operator{n}")
    is_staff = True


class TokenFactory(factory.django.DjangoModelFactory):
    """A REST API token (DRF's authtoken) of a user."""

    class Meta:
        model = Token

    user = factory.SubFactory(UserFactory)

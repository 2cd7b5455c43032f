import factory

from accounts.models import OfficialAccount


class OfficialAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OfficialAccount
        django_get_or_create = ("appid",)

    name = factory.Sequence(lambda n: f"公众号 {n}")
    appid = factory.Sequence(lambda n: f"wx{n:016x}")
    app_secret = "secret-for-tests"
    token = "test"

import factory

from accounts.tests.factories import OfficialAccountFactory
from wechat.api.endpoints import Endpoint
from wechat.models import AccessToken, ApiCallLog


class AccessTokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccessToken

    account = factory.SubFactory(OfficialAccountFactory)
    kind = AccessToken.Kind.ACCESS_TOKEN


class ApiCallLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApiCallLog

    account = factory.SubFactory(OfficialAccountFactory)
    endpoint = Endpoint.TOKEN.value.path
    method = "GET"
    duration_ms = 1

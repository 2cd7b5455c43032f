from sandbox.core import ENDPOINTS
from wechat.api.endpoints import Auth, Endpoint


def test_every_endpoint_has_its_own_path():
    paths = [member.path for member in Endpoint]
    assert len(paths) == len(set(paths)) == len(Endpoint.__members__)


def test_every_api_the_sandbox_imitates_is_in_the_table_with_a_method_it_accepts():
    table = {member.path: member for member in Endpoint}
    for api, sandbox_endpoint in ENDPOINTS.items():
        if api == "connect/oauth2/authorize":
            continue  # a browser page, not an API call
        assert api in table, api
        assert table[api].method in sandbox_endpoint.methods, api


def test_token_endpoints_carry_no_access_token_and_user_endpoints_take_the_users():
    assert Endpoint.TOKEN.value.auth == Auth.ANONYMOUS
    assert Endpoint.STABLE_TOKEN.value.auth == Auth.ANONYMOUS
    assert Endpoint.OAUTH_ACCESS_TOKEN.value.auth == Auth.ANONYMOUS
    assert Endpoint.OAUTH_USERINFO.value.auth == Auth.USER
    assert Endpoint.TAGS_CREATE.value.auth == Auth.TOKEN


def test_sends_that_carry_an_idempotency_key_are_safe_to_repeat():
    assert Endpoint.MASS_SEND.value.idempotent and Endpoint.MASS_SENDALL.value.idempotent
    assert Endpoint.TEMPLATE_SEND.value.idempotent
    assert not Endpoint.CUSTOM_SEND.value.idempotent
    assert not Endpoint.MASS_PREVIEW.value.idempotent


def test_batch_limits_are_wechats():
    assert Endpoint.USER_INFO_BATCHGET.value.batch_limit == 100
    assert Endpoint.TAGS_BATCHTAGGING.value.batch_limit == 50
    assert Endpoint.BLACKLIST_ADD.value.batch_limit == 20
    assert Endpoint.MASS_SEND.value.batch_limit == 10000

"""AppSecret, EncodingAESKey and access_token never leave the places that need them.

A full flow runs against the sandbox with a plaintext-mode and a safe-mode account whose secrets are
distinctive strings; everything an operator, a log collector or an API client can see is captured and
searched for them: every log record (every logger, every level, extra fields included), the admin
(account pages, every changelist and change page, the dashboard), the REST API, error pages, the
follower simulator and the API call log. The access_token may appear only in the access-token API's body.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client, RequestFactory, TestCase, override_settings
from django.urls import NoReverseMatch, reverse

from accounts.models import OfficialAccount
from accounts.services import account_upsert
from conftest import eager_json_tasks
from followers.models import Follower
from followers.services.sync import follower_sync_all
from messaging.inbound.models import InboundMessage
from messaging.inbound.tests.callback_client import post_callback, signed_query
from messaging.kefu.tasks import custom_message_send
from messaging.mass import services as mass
from messaging.templatemsg import tasks as template_tasks
from messaging.templatemsg.models import TemplateMessage
from messaging.templatemsg.tests.factories import MessageTemplateFactory
from messaging.templatemsg.validation import keywords_from_content
from sandbox import phone
from sandbox.generator import followers_generate
from sandbox.models import SandboxApp, SandboxCredential, SandboxFollower, SandboxTemplate
from sandbox.services import sandbox_app_configure
from sandbox.tests.factories import SandboxFaultFactory
from wechat import tokens, transport
from wechat.api.endpoints import Endpoint
from wechat.errors import WeChatError
from wechat.gateway import client_for
from wechat.models import AccessToken, ApiCallLog

PLAIN_APPID = "wx00000000000c0ffe"
SAFE_APPID = "wx000000000005afe1"
PLAIN_SECRET = "PlainCanarySecret9d41f0c2e7b3a5"
SAFE_SECRET = "SafeCanarySecret2b7e94d1c0fa86"
PLAIN_AES_KEY = "PlainCanaryAesKey0123456789abcdefghijklmnop"
SAFE_AES_KEY = "SafeCanaryAesKeyqrstuvwxyzABCDEFGHIJ0123456"
TEMPLATE_ID = "LeakCheckTemplate000000000000000000000000001"
TEMPLATE_CONTENT = "商品名称：{{thing1.DATA}}"
OPENID = "oLeakCheckFollower0000000001"


class RecordCollector(logging.Handler):
    """Keeps every record as text: the message, all of ``record.__dict__`` (extra fields) and the traceback."""

    def __init__(self):
        super().__init__(level=logging.NOTSET)
        self.texts: list[str] = []
        self.formatter_of_tracebacks = logging.Formatter()

    def emit(self, record):
        parts = [record.getMessage(), repr(record.__dict__)]
        if record.exc_info:
            # The traceback as logging prints it: formatted once per record for every handler, which keep it in exc_text.
            if not record.exc_text:
                record.exc_text = self.formatter_of_tracebacks.formatException(record.exc_info)
            parts.append(record.exc_text)
        self.texts.append("\n".join(parts))


@contextmanager
def logs_captured() -> Iterator[RecordCollector]:
    """Every logger at DEBUG, each record captured whether or not it propagates to the root."""
    collector = RecordCollector()
    loggers = [logging.getLogger()] + [
        logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    saved = [(logger, logger.level, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
        if logger is logging.getLogger() or not logger.propagate:
            logger.addHandler(collector)
    try:
        yield collector
    finally:
        for logger, level, disabled in saved:
            logger.setLevel(level)
            logger.disabled = disabled
            logger.removeHandler(collector)


@pytest.fixture
def all_logs():
    with logs_captured() as collector:
        yield collector


def _account(*, appid: str, secret: str, aes_key: str, mode: str) -> OfficialAccount:
    account, _ = account_upsert(
        appid=appid, name=f"Leak check {mode}", secret=secret, token="leaktoken", aes_key=aes_key, mode=mode
    )
    account.verified = True
    account.js_domains = "example.com"
    account.save()
    sandbox_app_configure(account=account)
    account.refresh_from_db()
    return account


class Flow:
    def __init__(self):
        self.pages: dict[str, str] = {}
        self.token_api: dict[str, str] = {}

    def keep(self, label: str, response) -> None:
        body = b"".join(response.streaming_content) if response.streaming else response.content
        headers = "\n".join(f"{k}: {v}" for k, v in response.items())
        self.pages[label] = f"{response.status_code}\n{headers}\n{body.decode('utf-8', 'replace')}"


def _callbacks(flow: Flow, account: OfficialAccount, app: SandboxApp, staff: Client) -> None:
    """A follower follows, writes and clicks from the simulator; WeChat's phone sends the same directly."""
    page = f"/sandbox/simulator/?appid={account.appid}&openid={OPENID}"
    for action in ({"action": "subscribe"}, {"action": "text", "content": "你好"}, {"action": "click", "key": "MENU"}):
        staff.post(page, action)
    flow.keep(f"simulator {account.encoding_mode}", staff.get(page))
    result = phone.follower_sends(app, OPENID, {"MsgType": "text", "Content": "再见"})
    assert result.status == 200, result.body


def _error_pages(flow: Flow, account: OfficialAccount, staff: Client, monkeypatch) -> None:
    anonymous = Client(raise_request_exception=False)
    path = account.callback_path
    flow.keep(f"callback 403 {account.appid}", anonymous.post(f"{path}?signature=0&timestamp=1&nonce=2", b"<xml/>", "text/xml"))
    query = "&".join(f"{k}={v}" for k, v in signed_query(account.token).items())
    flow.keep(f"callback 400 {account.appid}", anonymous.post(f"{path}?{query}", b"<xml><broken>", content_type="text/xml"))
    flow.keep(f"callback 404 {account.appid}", anonymous.get(f"{path}missing/"))
    flow.keep(f"admin 404 {account.appid}", staff.get(f"/admin/accounts/officialaccount/{account.pk}/nothing-here/"))
    with monkeypatch.context() as patched:

        def broken(**kwargs):
            raise RuntimeError("the inbound store is unavailable")

        patched.setattr("messaging.inbound.views.inbound_receive", broken)
        xml = "<xml><ToUserName>gh_x</ToUserName><FromUserName>oX</FromUserName><CreateTime>1</CreateTime>"
        xml += "<MsgType>text</MsgType><Content>x</Content><MsgId>1</MsgId></xml>"
        if account.encrypts:
            # The test client encrypts with the shared test key; this account has its own.
            patched.setattr("messaging.inbound.tests.callback_client.AES_KEY", account.encoding_aes_key)
            flow.keep(f"callback 500 {account.appid}", post_callback(anonymous, account, xml))
        else:
            flow.keep(f"callback 500 {account.appid}", anonymous.post(f"{path}?{query}", xml, content_type="text/xml"))


def _admin(flow: Flow, superuser: Client, accounts: list[OfficialAccount], monkeypatch) -> None:
    flow.keep("admin index", superuser.get("/admin/"))
    for account in accounts:
        change = reverse("admin:accounts_officialaccount_change", args=[account.pk])
        flow.keep(f"account change {account.appid}", superuser.get(change))
        flow.keep(f"account history {account.appid}", superuser.get(change.replace("/change/", "/history/")))
        # An operator saves the account without typing the secrets: they are kept, and never rendered back.
        form = superuser.get(change).context["adminform"].form
        kept = ("operators", "app_secret", "encoding_aes_key")
        data = {name: form[name].value() or "" for name in form.fields if name not in kept}
        data.update({"verified": "on", "use_stable_token": "on", "operators": []})
        data = {k: v for k, v in data.items() if v is not False}
        flow.keep(f"account save {account.appid}", superuser.post(change, data, follow=True))
    changelist = reverse("admin:accounts_officialaccount_changelist")
    # WeChat refuses a forced refresh within 30 s of the last token (45011): a minute passes on its clock.
    SandboxApp.objects.update(clock_offset=60)
    action = {"action": "force_refresh_token", "_selected_action": [a.pk for a in accounts]}
    flow.keep("force refresh", superuser.post(changelist, action, follow=True))
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        try:
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        except NoReverseMatch:
            continue
        flow.keep(f"changelist {opts.label}", superuser.get(url))
        first = model_admin.get_queryset(superuser_request()).order_by("pk").first()
        if first is not None:
            flow.keep(
                f"change {opts.label}",
                superuser.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk])),
            )
    with monkeypatch.context() as patched:

        def broken(self, obj):
            raise RuntimeError("token state unavailable")

        patched.setattr("accounts.admin.OfficialAccountAdmin.token_state", broken)
        crashing = Client(raise_request_exception=False)
        crashing.force_login(User.objects.get(username="root"))
        flow.keep("admin 500", crashing.get(changelist))


def superuser_request():
    request = RequestFactory().get("/admin/")
    request.user = User.objects.get(username="root")
    return request


def _api(flow: Flow, superuser: Client, accounts: list[OfficialAccount]) -> None:
    for account in accounts:
        base = f"/api/v1/accounts/{account.appid}"
        token_response = superuser.get(f"{base}/access-token/")
        assert token_response.status_code == 200
        flow.token_api[account.appid] = token_response.content.decode()
        flow.keep(f"jssdk {account.appid}", superuser.get(f"{base}/jssdk-config", {"url": "https://example.com/page"}))
        message = TemplateMessage.objects.filter(account=account).first()
        flow.keep(f"template message {account.appid}", superuser.get(f"{base}/template-messages/{message.pk}/"))
        flow.keep(f"mass list {account.appid}", superuser.get(f"{base}/mass-messages/"))
    flow.keep("api 404", superuser.get("/api/v1/accounts/wx0000000000000000/access-token/"))
    flow.keep("api 403", Client().get(f"/api/v1/accounts/{accounts[0].appid}/access-token/"))


def _sends(flow: Flow, superuser: Client, account: OfficialAccount, app: SandboxApp, capture) -> None:
    """Template send through the API, follower sync, mass preview and a mass send with its job-finish push."""
    followers_generate(app=app, n=5)
    SandboxFollower.objects.get_or_create(app=app, openid=OPENID)
    with capture(execute=True):
        follower_sync_all(account=account)
    SandboxTemplate.objects.create(app=app, template_id=TEMPLATE_ID, title="订单", content=TEMPLATE_CONTENT)
    MessageTemplateFactory(
        account=account,
        template_id=TEMPLATE_ID,
        title="订单",
        content=TEMPLATE_CONTENT,
        keywords=keywords_from_content(TEMPLATE_CONTENT),
        sync_status="synced",
    )
    body = {"touser": OPENID, "template_id": TEMPLATE_ID, "data": {"thing1": {"value": "巧克力"}}}
    with capture(execute=True):
        sent = superuser.post(f"/api/v1/accounts/{account.appid}/template-messages/", body, content_type="application/json")
    flow.keep(f"template send {account.appid}", sent)
    for message in TemplateMessage.objects.filter(account=account):
        template_tasks.template_message_send.delay(message.pk)
    message = mass.mass_message_create(account=account, title="Weekly", msgtype="text", content="你好", audience="all")
    preview = reverse("admin:mass_massmessage_preview", args=[message.pk])
    flow.keep(f"mass preview {account.appid}", superuser.post(preview, {"openids": OPENID}, follow=True))
    with capture(execute=True):
        mass.mass_message_schedule(message=message)
    # A customer-service send that times out, run as a worker runs it: the failure is logged, not raised.
    SandboxFaultFactory(app=app, api=Endpoint.CUSTOM_SEND.path, kind="timeout_before", remaining=1)
    text = {"msgtype": "text", "text": {"content": "稍等"}}
    assert custom_message_send.apply(args=[account.pk, OPENID, text], throw=False).failed()


def _flow_run(all_logs: RecordCollector, monkeypatch) -> Flow:
    capture_on_commit = TestCase.captureOnCommitCallbacks
    plain = _account(appid=PLAIN_APPID, secret=PLAIN_SECRET, aes_key=PLAIN_AES_KEY, mode="plain")
    safe = _account(appid=SAFE_APPID, secret=SAFE_SECRET, aes_key=SAFE_AES_KEY, mode="safe")
    User.objects.create_superuser("root", "root@example.com", "pw")
    superuser = Client()
    superuser.force_login(User.objects.get(username="root"))
    staff_user = User.objects.create_user("clerk", password="pw", is_staff=True)
    staff = Client()
    staff.force_login(staff_user)

    result = Flow()
    for account in (plain, safe):
        app = SandboxApp.objects.get(appid=account.appid)
        with capture_on_commit(execute=True):
            _callbacks(result, account, app, superuser)
        _sends(result, superuser, account, app, capture_on_commit)
        _error_pages(result, account, staff, monkeypatch)
        result.keep(f"admin 403 {account.appid}", staff.get(reverse("admin:accounts_officialaccount_change", args=[account.pk])))
    _admin(result, superuser, [plain, safe], monkeypatch)
    _api(result, superuser, [plain, safe])
    result.logs = all_logs.texts
    result.call_logs = [repr(row) for row in ApiCallLog.objects.values()]
    result.tokens = list(SandboxCredential.objects.filter(kind__in=["token", "stable_token"]).values_list("value", flat=True))
    # Logging configured anew (django.setup() again) would have dropped the collector and the records after it.
    result.logs_captured_throughout = all_logs in logging.getLogger().handlers
    return result


@pytest.fixture(scope="class")
def flow(django_db_setup, django_db_blocker) -> Iterator[Flow]:
    """The flow runs once for the tests of a class (each reads what it left), in a transaction rolled back after them."""
    with (
        django_db_blocker.unblock(),
        transaction.atomic(),
        eager_json_tasks(),
        override_settings(SANDBOX_TEMPLATE_JOB_FINISH_DELAY=0),
        logs_captured() as all_logs,
        pytest.MonkeyPatch.context() as monkeypatch,
    ):
        yield _flow_run(all_logs, monkeypatch)
        transaction.set_rollback(True)


SECRETS = (PLAIN_SECRET, SAFE_SECRET, PLAIN_AES_KEY, SAFE_AES_KEY)


def leaks(texts, forbidden) -> list[tuple[str, str]]:
    return [(secret, text[:300]) for text in texts for secret in forbidden if secret in text]


@pytest.mark.django_db
class TestTheFlow:
    """Five checks of one run of the flow (the ``flow`` fixture runs it once for the class)."""

    def test_the_flow_reaches_every_part_it_checks(self, flow):
        for appid in (PLAIN_APPID, SAFE_APPID):
            account = OfficialAccount.objects.get(appid=appid)
            assert InboundMessage.objects.filter(account=account, msg_type="text").count() == 2
            assert InboundMessage.objects.filter(account=account, event="MASSSENDJOBFINISH").exists()
            assert Follower.objects.filter(account=account).count() >= 6
            assert TemplateMessage.objects.filter(account=account).exclude(msgid="").exists()
            assert AccessToken.objects.get(account=account, kind="access_token").refresh_count >= 2
            assert AccessToken.objects.get(account=account, kind="access_token").value in flow.token_api[appid]
        for appid in (PLAIN_APPID, SAFE_APPID):
            codes = {flow.pages[f"callback {code} {appid}"].split()[0] for code in (400, 403, 404, 500)}
            assert codes == {"400", "403", "404", "500"}
            assert flow.pages[f"admin 403 {appid}"].startswith("403")
        assert flow.pages["admin 500"].startswith("500")
        assert flow.logs and flow.call_logs and len(flow.tokens) >= 4
        assert flow.logs_captured_throughout

    def test_no_log_record_holds_a_secret_or_an_access_token(self, flow):
        assert leaks(flow.logs, SECRETS + tuple(flow.tokens)) == []

    def test_no_page_or_api_response_holds_a_secret_or_an_access_token(self, flow):
        assert leaks(flow.pages.values(), SECRETS + tuple(flow.tokens)) == []

    def test_the_access_token_api_gives_the_token_but_no_secret(self, flow):
        assert leaks(flow.token_api.values(), SECRETS) == []

    def test_the_api_call_log_holds_no_secret_or_access_token(self, flow):
        assert leaks(flow.call_logs, SECRETS + tuple(flow.tokens)) == []


def test_http_client_debug_lines_never_carry_the_access_token(all_logs, live_server, settings):
    """Over real HTTP (the sandbox served like WeChat), with every logger at DEBUG as LOG_LEVEL=DEBUG sets it."""
    settings.WECHAT_API_BASE_URL_ALLOW_LOCAL_SANDBOX = True  # the live server is a sandbox on this machine
    account = _account(appid=PLAIN_APPID, secret=PLAIN_SECRET, aes_key=PLAIN_AES_KEY, mode="plain")
    token = tokens.access_token_get(account=account)  # in-process: SQLite cannot serve a refresh's lock across threads
    OfficialAccount.objects.filter(pk=account.pk).update(api_base_url=f"{live_server.url}/sandbox/")
    account.refresh_from_db()
    try:
        client_for(account).callback_ips()
    finally:
        transport.session().close()  # no kept-alive connection to the live server outlives the test
    assert any("getcallbackip" in text for text in all_logs.texts)
    assert leaks(all_logs.texts, (PLAIN_SECRET, token)) == []


def test_a_logged_error_for_an_http_error_status_carries_no_access_token(all_logs, db):
    account = _account(appid=PLAIN_APPID, secret=PLAIN_SECRET, aes_key=PLAIN_AES_KEY, mode="plain")
    token = tokens.access_token_get(account=account)
    try:
        client_for(account).get("no/such/api")  # the sandbox answers HTTP 404, as WeChat's gateway may answer 5xx
    except WeChatError:
        logging.getLogger("wxsite.test").exception("wechat.call_failed")
    assert any("wechat.call_failed" in text for text in all_logs.texts)
    assert leaks(all_logs.texts, (PLAIN_SECRET, token)) == []

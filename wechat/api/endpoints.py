"""The one table of WeChat endpoints this project calls (API.md; WeChat's own docs where API.md is silent).

A path is relative to the account's base URL (``account.api_base``): the value the call log's ``endpoint``
column and the sandbox's ``SandboxCall.api`` hold. Apps may name a member (tests filter call records with
``Endpoint.TAGS_CREATE.path``) but never build a path or a request body; ``wechat.api.<domain>`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Literal


class Auth(StrEnum):
    TOKEN = "token"  # the account's access_token from wechat.tokens, added as a query parameter
    ANONYMOUS = "anonymous"  # appid and secret travel in the call itself (token, stable_token, sns/oauth2/*)
    USER = "user"  # a web-login user's access_token (sns/userinfo, sns/auth)


@dataclass(frozen=True)
class Spec:
    path: str
    method: Literal["GET", "POST"]
    auth: Auth = Auth.TOKEN
    # Safe to repeat after a timeout: reads, and sends that carry clientmsgid / client_msg_id.
    idempotent: bool = False
    multipart: bool = False
    # The most items WeChat takes in one call (openids, users), where it sets a limit.
    batch_limit: int | None = None
    # Only reads WeChat state; every other call is recorded in the audit trail (``changes_state``).
    reads: bool = False


def _get(path: str, auth: Auth = Auth.TOKEN) -> Spec:
    return Spec(path, "GET", auth, idempotent=True, reads=True)


def _post(path: str, **options) -> Spec:
    return Spec(path, "POST", **options)


def _read(path: str, **options) -> Spec:
    """A POST that only reads: safe to repeat."""
    return Spec(path, "POST", idempotent=True, reads=True, **options)


class Endpoint(Enum):
    # Basic (API.md §3, §10)
    TOKEN = _get("cgi-bin/token", Auth.ANONYMOUS)
    STABLE_TOKEN = _read("cgi-bin/stable_token", auth=Auth.ANONYMOUS)
    TICKET_GET = _get("cgi-bin/ticket/getticket")
    CALLBACK_IP = _get("cgi-bin/getcallbackip")
    QUOTA_GET = _read("cgi-bin/openapi/quota/get")
    RID_GET = _read("cgi-bin/openapi/rid/get")

    # Users, tags, blacklist (API.md §4)
    USER_INFO = _get("cgi-bin/user/info")
    USER_INFO_BATCHGET = _read("cgi-bin/user/info/batchget", batch_limit=100)
    USER_GET = _get("cgi-bin/user/get")
    USER_REMARK = _post("cgi-bin/user/info/updateremark")
    TAGS_CREATE = _post("cgi-bin/tags/create")
    TAGS_GET = _get("cgi-bin/tags/get")
    TAGS_UPDATE = _post("cgi-bin/tags/update")
    TAGS_DELETE = _post("cgi-bin/tags/delete")
    TAG_USERS = _read("cgi-bin/user/tag/get")
    USER_TAG_IDS = _read("cgi-bin/tags/getidlist")
    TAGS_BATCHTAGGING = _post("cgi-bin/tags/members/batchtagging", batch_limit=50)
    TAGS_BATCHUNTAGGING = _post("cgi-bin/tags/members/batchuntagging", batch_limit=50)
    BLACKLIST_GET = _read("cgi-bin/tags/members/getblacklist")
    BLACKLIST_ADD = _post("cgi-bin/tags/members/batchblacklist", batch_limit=20)
    BLACKLIST_REMOVE = _post("cgi-bin/tags/members/batchunblacklist", batch_limit=20)

    # Customer service (API.md §9)
    CUSTOM_SEND = _post("cgi-bin/message/custom/send")
    CUSTOM_TYPING = _post("cgi-bin/message/custom/typing")
    KF_LIST = _get("cgi-bin/customservice/getkflist")
    KF_ONLINE_LIST = _get("cgi-bin/customservice/getonlinekflist")
    KF_ADD = _post("customservice/kfaccount/add")
    KF_UPDATE = _post("customservice/kfaccount/update")
    KF_DELETE = Spec("customservice/kfaccount/del", "GET")  # a GET that deletes
    KF_INVITE = _post("customservice/kfaccount/inviteworker")
    KF_AVATAR = _post("customservice/kfaccount/uploadheadimg", multipart=True)

    # Template messages (API.md §9)
    TEMPLATE_SEND = _post("cgi-bin/message/template/send", idempotent=True)  # client_msg_id
    TEMPLATE_LIST = _get("cgi-bin/template/get_all_private_template")
    TEMPLATE_ADD = _post("cgi-bin/template/api_add_template")
    TEMPLATE_DELETE = _post("cgi-bin/template/del_private_template")
    INDUSTRY_GET = _get("cgi-bin/template/get_industry")
    INDUSTRY_SET = _post("cgi-bin/template/api_set_industry")

    # Mass send (API.md §8)
    MASS_SENDALL = _post("cgi-bin/message/mass/sendall", idempotent=True)  # clientmsgid
    MASS_SEND = _post("cgi-bin/message/mass/send", idempotent=True, batch_limit=10000)  # clientmsgid
    MASS_PREVIEW = _post("cgi-bin/message/mass/preview")
    MASS_DELETE = _post("cgi-bin/message/mass/delete")
    MASS_GET = _read("cgi-bin/message/mass/get")
    MASS_SPEED_GET = _read("cgi-bin/message/mass/speed/get")
    MASS_SPEED_SET = _post("cgi-bin/message/mass/speed/set")

    # OAuth2 web authorization (API.md §10)
    OAUTH_ACCESS_TOKEN = Spec("sns/oauth2/access_token", "GET", Auth.ANONYMOUS)  # a code works once
    OAUTH_REFRESH = _get("sns/oauth2/refresh_token", Auth.ANONYMOUS)
    OAUTH_USERINFO = _get("sns/userinfo", Auth.USER)
    OAUTH_AUTH = _get("sns/auth", Auth.USER)

    # Temporary media and permanent materials (API.md §5)
    MEDIA_UPLOAD = _post("cgi-bin/media/upload", multipart=True)
    MEDIA_GET = _get("cgi-bin/media/get")
    MEDIA_UPLOADIMG = _post("cgi-bin/media/uploadimg", multipart=True)
    MATERIAL_ADD = _post("cgi-bin/material/add_material", multipart=True)
    MATERIAL_GET = _read("cgi-bin/material/get_material")
    MATERIAL_DEL = _post("cgi-bin/material/del_material")
    MATERIAL_COUNT = _get("cgi-bin/material/get_materialcount")
    MATERIAL_BATCHGET = _read("cgi-bin/material/batchget_material")
    # Offline since 2022 (45106, API.md §5): never called; listed so the sandbox answers it as WeChat does.
    MATERIAL_ADD_NEWS = _post("cgi-bin/material/add_news")

    # Drafts and publishing (API.md §5; wechatpy 1.8.18 has neither)
    DRAFT_ADD = _post("cgi-bin/draft/add")
    DRAFT_GET = _read("cgi-bin/draft/get")
    DRAFT_UPDATE = _post("cgi-bin/draft/update")
    DRAFT_DELETE = _post("cgi-bin/draft/delete")
    DRAFT_BATCHGET = _read("cgi-bin/draft/batchget")
    DRAFT_COUNT = _get("cgi-bin/draft/count")
    FREEPUBLISH_SUBMIT = _post("cgi-bin/freepublish/submit")
    FREEPUBLISH_GET = _read("cgi-bin/freepublish/get")
    FREEPUBLISH_DELETE = _post("cgi-bin/freepublish/delete")
    FREEPUBLISH_BATCHGET = _read("cgi-bin/freepublish/batchget")
    FREEPUBLISH_GETARTICLE = _read("cgi-bin/freepublish/getarticle")

    # Article comments (WeChat's comment API; API.md §5 lists only the article flags)
    COMMENT_OPEN = _post("cgi-bin/comment/open")
    COMMENT_CLOSE = _post("cgi-bin/comment/close")
    COMMENT_LIST = _read("cgi-bin/comment/list")
    COMMENT_MARKELECT = _post("cgi-bin/comment/markelect")
    COMMENT_UNMARKELECT = _post("cgi-bin/comment/unmarkelect")
    COMMENT_DELETE = _post("cgi-bin/comment/delete")
    COMMENT_REPLY_ADD = _post("cgi-bin/comment/reply/add")
    COMMENT_REPLY_DELETE = _post("cgi-bin/comment/reply/delete")

    # Custom menus (API.md §6)
    MENU_CREATE = _post("cgi-bin/menu/create")
    MENU_GET = _get("cgi-bin/menu/get")
    MENU_DELETE = Spec("cgi-bin/menu/delete", "GET")  # a GET that deletes
    MENU_ADDCONDITIONAL = _post("cgi-bin/menu/addconditional")
    MENU_DELCONDITIONAL = _post("cgi-bin/menu/delconditional")
    MENU_TRYMATCH = _read("cgi-bin/menu/trymatch")
    MENU_CURRENT_SELFMENU = _get("cgi-bin/get_current_selfmenu_info")

    # Parametric QR codes (API.md §7)
    QRCODE_CREATE = _post("cgi-bin/qrcode/create")

    # Data cube (API.md §11)
    DATACUBE_USER_SUMMARY = _read("datacube/getusersummary")
    DATACUBE_USER_CUMULATE = _read("datacube/getusercumulate")

    @property
    def spec(self) -> Spec:
        return self.value

    @property
    def path(self) -> str:
        return self.value.path

    @property
    def method(self) -> str:
        return self.value.method


_SPECS_BY_PATH = {member.path: member.spec for member in Endpoint}


def changes_state(path: str, method: str) -> bool:
    """Whether a call to ``path`` may change WeChat state: every endpoint of the table that is not a read, credential
    exchanges aside (token, OAuth code). A path outside the table (a wechatpy call) counts as a change unless a GET."""
    spec = _SPECS_BY_PATH.get(path)
    if spec is None:
        return method.upper() != "GET"
    return not spec.reads and spec.auth is Auth.TOKEN


# Browser-facing URLs (no API call, no access_token): they live here too.
OAUTH_AUTHORIZE_PATH = "connect/oauth2/authorize"  # under open.weixin.qq.com, or under a sandbox's base URL
OAUTH_AUTHORIZE_URL = "https://open.weixin.qq.com/" + OAUTH_AUTHORIZE_PATH
QRCODE_SHOW_URL = "https://mp.weixin.qq.com/cgi-bin/showqrcode"

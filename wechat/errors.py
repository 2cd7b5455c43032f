"""WeChat error codes: one table with each code's category and its meaning in Chinese and English.

Match on errcode, never on errmsg (errmsg carries a changing ``rid:``/``hint:`` suffix).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    TRANSIENT = "transient"  # retry later with backoff
    AUTH = "auth"  # invalidate the token, refresh once, retry once
    QUOTA = "quota"  # stop; retrying now will not help
    PERMANENT = "permanent"  # fix the request or the configuration


@dataclass(frozen=True)
class ErrorInfo:
    category: Category
    zh: str
    en: str


T, A, Q, P = Category.TRANSIENT, Category.AUTH, Category.QUOTA, Category.PERMANENT

ERRORS: dict[int, ErrorInfo] = {
    -1: ErrorInfo(T, "系统繁忙，请稍后重试", "WeChat is busy; retry later"),
    40001: ErrorInfo(A, "AppSecret 错误或 access_token 已失效", "Wrong AppSecret, or the access_token was replaced"),
    40002: ErrorInfo(P, "不合法的凭证类型", "Invalid grant_type"),
    40003: ErrorInfo(P, "不合法的 OpenID，或用户已取消关注", "Invalid OpenID for this account, or the user unfollowed"),
    40004: ErrorInfo(P, "不合法的媒体文件类型", "Invalid media type"),
    40007: ErrorInfo(P, "不合法的媒体文件 id（已过期或不存在）", "Invalid media_id (expired or unknown)"),
    40008: ErrorInfo(P, "不合法的消息类型", "Invalid message type"),
    40009: ErrorInfo(P, "图片尺寸太大", "Image too large"),
    40013: ErrorInfo(P, "不合法的 AppID", "Invalid AppID"),
    40014: ErrorInfo(A, "不合法的 access_token", "Invalid access_token"),
    40015: ErrorInfo(P, "不合法的菜单类型", "Invalid menu button type"),
    40016: ErrorInfo(P, "不合法的按钮个数", "Invalid number of menu buttons"),
    40017: ErrorInfo(P, "不合法的按钮类型", "Invalid menu button type"),
    40018: ErrorInfo(P, "按钮名字长度超限", "Menu button name too long"),
    40019: ErrorInfo(P, "按钮 KEY 长度超限", "Menu button key too long"),
    40020: ErrorInfo(P, "按钮 URL 长度超限", "Menu button URL too long"),
    40029: ErrorInfo(P, "不合法或已过期的 oauth_code", "Invalid or expired OAuth code"),
    40030: ErrorInfo(P, "不合法的 refresh_token，请重新授权", "Invalid refresh_token; authorise again"),
    40032: ErrorInfo(P, "OpenID 列表长度不合法", "Invalid OpenID list size"),
    40033: ErrorInfo(P, "不合法的字符（请直接发送 UTF-8，不要 \\uxxxx 转义）", "Invalid charset: send raw UTF-8 JSON"),
    40035: ErrorInfo(P, "不合法的参数", "Invalid parameter"),
    40037: ErrorInfo(P, "不合法的模板 id", "Invalid template_id"),
    40102: ErrorInfo(P, "不合法的行业 ID", "Invalid industry id"),
    40125: ErrorInfo(P, "AppSecret 无效", "Invalid AppSecret"),
    40163: ErrorInfo(P, "oauth_code 已使用", "OAuth code already used"),
    40164: ErrorInfo(P, "调用接口的 IP 不在白名单中，请在公众平台添加", "Server IP is not in the account's IP whitelist"),
    41001: ErrorInfo(A, "缺少 access_token 参数", "access_token missing"),
    42001: ErrorInfo(A, "access_token 已过期", "access_token expired"),
    42002: ErrorInfo(P, "refresh_token 已过期，请重新授权", "refresh_token expired; authorise again"),
    43004: ErrorInfo(P, "需要接收者关注", "The receiver must follow the account"),
    43100: ErrorInfo(P, "修改所属行业太频繁（每月一次）", "Industry changed too often (once a month)"),
    43101: ErrorInfo(P, "用户拒绝接受消息", "The user refused this message"),
    44002: ErrorInfo(P, "POST 数据为空", "Empty POST data"),
    45002: ErrorInfo(P, "消息内容超过限制", "Content too long"),
    45009: ErrorInfo(Q, "接口调用超过每日限额", "Daily API quota reached"),
    45011: ErrorInfo(T, "接口调用太频繁，请下一分钟重试", "Per-minute quota reached; retry next minute"),
    45015: ErrorInfo(
        P,
        "回复时间超过限制（超过 48 小时客服窗口）或用户已取关",
        "Outside the 48-hour customer-service window, or the user unfollowed",
    ),
    45026: ErrorInfo(P, "模板数量已达上限（25 个）", "Too many templates (25 per account)"),
    45028: ErrorInfo(Q, "没有群发配额", "No mass-send quota left"),
    45047: ErrorInfo(Q, "客服接口下行条数超过上限", "Too many customer-service messages in this window"),
    45056: ErrorInfo(P, "标签数量已达上限（100）", "Too many tags (100 per account)"),
    45057: ErrorInfo(P, "该标签下粉丝数超过 10 万，不能直接删除", "Tag has over 100,000 followers; untag them first"),
    45058: ErrorInfo(P, "不能修改系统默认保留的标签（0/1/2）", "Reserved tags 0/1/2 cannot be changed"),
    45059: ErrorInfo(P, "该粉丝的标签数已达上限（20）", "The follower already has 20 tags"),
    45065: ErrorInfo(P, "相同 clientmsgid 已存在群发记录", "A mass send with this clientmsgid already exists"),
    45066: ErrorInfo(T, "相同 clientmsgid 重试速度过快，请间隔 1 分钟", "Same clientmsgid retried too fast; wait a minute"),
    45067: ErrorInfo(P, "clientmsgid 长度超过限制", "clientmsgid too long"),
    45083: ErrorInfo(P, "群发速度超出范围（0–4）", "Mass-send speed out of range (0-4)"),
    45084: ErrorInfo(P, "未设置群发速度", "Mass-send speed missing"),
    45106: ErrorInfo(P, "该接口已下线", "This API is no longer supported"),
    45157: ErrorInfo(P, "标签名非法或与其他标签重名", "Illegal or duplicate tag name"),
    45158: ErrorInfo(P, "标签名长度超过 30 字节", "Tag name longer than 30 bytes"),
    45159: ErrorInfo(P, "非法的标签", "Invalid tag id"),
    47001: ErrorInfo(P, "数据格式错误", "Data format error"),
    48001: ErrorInfo(
        P, "接口未授权（账号类型或认证状态不支持该接口）", "API unauthorised for this account type or verification state"
    ),
    48003: ErrorInfo(P, "用户未同意群发协议", "The mass-send (群发) protocol has not been accepted in the console"),
    48004: ErrorInfo(P, "接口因违规被封禁", "API banned for irregularities"),
    48005: ErrorInfo(P, "素材被自动回复或菜单引用，不能删除", "Media is used by an auto-reply or menu and cannot be deleted"),
    48006: ErrorInfo(Q, "本月清零次数已用完", "Quota clears used up this month"),
    49003: ErrorInfo(P, "OpenID 不属于此 AppID", "OpenID does not belong to this AppID"),
    50001: ErrorInfo(P, "用户未授权该接口", "The user has not authorised this API"),
    50002: ErrorInfo(P, "用户受限（被冻结或注销）", "User limited (frozen or cancelled)"),
    53600: ErrorInfo(P, "Article ID 无效", "Invalid article_id"),
    65320: ErrorInfo(P, "个性化菜单规则使用了隐私字段", "Conditional menu rule uses privacy fields"),
    89501: ErrorInfo(T, "等待管理员确认中", "Waiting for the administrator's confirmation"),
    89503: ErrorInfo(
        P, "此次调用需要管理员确认（IP 风险保护）", "This call needs the administrator's confirmation (risk protection)"
    ),
    89506: ErrorInfo(P, "管理员已拒绝此 IP 的调用（24 小时内）", "The administrator refused calls from this IP (24 h)"),
    89507: ErrorInfo(P, "管理员已拒绝此 IP 的调用（1 小时内）", "The administrator refused calls from this IP (1 h)"),
    # Customer service (客服) account management
    40005: ErrorInfo(P, "不合法的文件类型（客服头像须为 JPG）", "Invalid file type (a kf avatar must be a JPEG)"),
    41005: ErrorInfo(P, "缺少多媒体文件数据", "Media data missing"),
    44003: ErrorInfo(P, "图文消息内容为空", "Empty message content"),
    45008: ErrorInfo(
        P, "图文消息超过限制（客服消息只能发 1 条图文）", "Too many articles (one per customer-service news message)"
    ),
    65400: ErrorInfo(
        P, "API 不可用，未开通或未升级到新版客服功能", "API unavailable: the new customer-service feature is not enabled"
    ),
    65401: ErrorInfo(P, "无效客服帐号", "Invalid kf account"),
    65402: ErrorInfo(P, "客服帐号尚未绑定微信号", "The kf account is not bound to a WeChat user"),
    65403: ErrorInfo(P, "客服昵称不合法（1 到 16 个字）", "Illegal nickname (1 to 16 characters)"),
    65404: ErrorInfo(P, "客服帐号不合法（前缀@公众号微信号）", "Illegal kf account (prefix@account WeChat ID)"),
    65405: ErrorInfo(P, "客服帐号数目已达到上限（100）", "Too many kf accounts (100 per account)"),
    65406: ErrorInfo(P, "已经存在的客服帐号", "The kf account already exists"),
    65407: ErrorInfo(P, "邀请对象已经是该公众号客服", "The invited user is already a worker of this account"),
    65408: ErrorInfo(P, "本公众号已经有一个邀请给该微信", "This account already invited that WeChat user"),
    65409: ErrorInfo(P, "无效的微信号", "Invalid WeChat ID"),
    65410: ErrorInfo(
        P, "邀请对象绑定公众号客服数达到上限", "The invited user is bound to too many official accounts' kf accounts"
    ),
    65411: ErrorInfo(P, "该帐号已经有一个等待确认的邀请，不能重复邀请", "The kf account already has a pending invitation"),
    65412: ErrorInfo(P, "该帐号已经绑定微信号，不能进行邀请", "The kf account is already bound to a WeChat user"),
    # Data cube (数据统计)
    61500: ErrorInfo(P, "日期格式错误（须为 YYYY-MM-DD）", "Date format error (YYYY-MM-DD expected)"),
    61501: ErrorInfo(
        P,
        "日期范围错误（超过该接口的最大跨度，或结束日期不早于今天）",
        "Date range error (over the API's maximum span, or the end date is not before today)",
    ),
    # Custom menus (自定义菜单): sub-button checks, URL domains, mini programs, conditional menus
    40023: ErrorInfo(P, "子菜单按钮个数不合法（每个一级菜单 1 到 5 个）", "Invalid number of sub-buttons (1 to 5 per button)"),
    40024: ErrorInfo(P, "子菜单按钮类型不合法", "Invalid sub-button type"),
    40025: ErrorInfo(P, "子菜单按钮名字长度超限（60 字节）", "Sub-button name too long (60 bytes)"),
    40026: ErrorInfo(P, "子菜单按钮 KEY 长度超限（128 字节）", "Sub-button key too long (128 bytes)"),
    40027: ErrorInfo(P, "子菜单按钮 URL 长度超限（1024 字节）", "Sub-button URL too long (1024 bytes)"),
    40054: ErrorInfo(P, "子菜单按钮 URL 域名不合法", "Invalid sub-button URL domain"),
    40055: ErrorInfo(P, "菜单按钮 URL 域名不合法", "Invalid button URL domain"),
    40165: ErrorInfo(P, "小程序页面路径不合法", "Invalid mini-program page path"),
    40166: ErrorInfo(P, "小程序 AppID 不合法或未关联", "Invalid mini-program AppID, or not linked to the account"),
    46003: ErrorInfo(P, "不存在的菜单数据", "No menu exists"),
    65301: ErrorInfo(P, "不存在此 menuid 对应的个性化菜单", "No conditional menu with this menuid"),
    65302: ErrorInfo(P, "没有相应的用户", "No such user"),
    65303: ErrorInfo(P, "没有默认菜单，不能创建个性化菜单", "No default menu: create it before conditional menus"),
    65304: ErrorInfo(P, "个性化菜单匹配规则为空", "The conditional menu's match rule is empty"),
    65305: ErrorInfo(P, "个性化菜单数量受限", "Too many conditional menus"),
    # Drafts, publishing and comments
    53503: ErrorInfo(P, "该草稿未通过发布检查", "The draft failed WeChat's publish check"),
    53504: ErrorInfo(P, "需前往公众平台官网使用草稿", "This draft can only be used in the WeChat console"),
    53505: ErrorInfo(P, "请手动保存成功后再发表", "Save the draft once in the WeChat console, then publish it"),
    88000: ErrorInfo(P, "该文章未开启留言", "Comments are not open on this article"),
    88001: ErrorInfo(P, "该图文不存在", "No such article (msg_data_id)"),
    88002: ErrorInfo(P, "文章存在敏感信息", "The article contains sensitive content"),
    88003: ErrorInfo(P, "精选评论数已达上限", "Too many elected comments"),
    88004: ErrorInfo(P, "已被用户删除，无法精选", "The follower deleted the comment; it cannot be elected"),
    88005: ErrorInfo(P, "已经回复过了", "The comment has a reply already"),
    88007: ErrorInfo(P, "回复超过长度限制或为0", "The reply is empty or too long"),
    88008: ErrorInfo(P, "该评论不存在", "No such comment"),
    88010: ErrorInfo(P, "获取评论数目不合法", "Invalid number of comments requested"),
}

# Temporary media and permanent materials (API.md §5)
ERRORS.update(
    {
        40006: ErrorInfo(P, "不合法的文件大小", "Invalid media file size"),
        41006: ErrorInfo(P, "缺少 media_id 参数", "media_id missing"),
        45001: ErrorInfo(P, "多媒体文件大小超过限制", "Media file larger than WeChat allows"),
        45007: ErrorInfo(P, "语音播放时间超过限制（60 秒）", "Voice longer than 60 seconds"),
    }
)

# Not WeChat codes: what the gateway reports when no answer came back.
TIMEOUT = -1001
CONNECTION_ERROR = -1002
BAD_RESPONSE = -1003
BASE_URL_REFUSED = -1004
ERRORS.update(
    {
        TIMEOUT: ErrorInfo(T, "请求微信接口超时", "The call to WeChat timed out"),
        CONNECTION_ERROR: ErrorInfo(T, "无法连接微信接口", "Could not connect to WeChat"),
        BAD_RESPONSE: ErrorInfo(T, "微信接口返回了无法识别的响应", "WeChat returned an unreadable response"),
        BASE_URL_REFUSED: ErrorInfo(
            P,
            "该公众号的接口地址不在允许列表中，未发送任何请求（请管理员检查 API base URL 配置）",
            "The account's API base URL is not on the allowed list; nothing was sent (an administrator must fix the setting)",
        ),
    }
)


def describe(errcode: int) -> ErrorInfo:
    return ERRORS.get(errcode) or ErrorInfo(P, "未知错误", "Unknown error")


class WeChatError(Exception):
    """A call to WeChat that did not succeed. ``str()`` is what an operator is shown."""

    def __init__(self, errcode: int, errmsg: str = "", *, endpoint: str = "", response: dict | None = None):
        self.errcode = int(errcode)
        self.errmsg = errmsg or ""
        self.endpoint = endpoint
        self.response = response or {}
        info = describe(self.errcode)
        self.category = info.category
        self.meaning_zh = info.zh
        self.meaning_en = info.en
        super().__init__(self.display)

    @property
    def display(self) -> str:
        return f"{self.errcode}: {self.meaning_zh} / {self.meaning_en}"

    @property
    def is_transient(self) -> bool:
        return self.category == Category.TRANSIENT

    @property
    def is_auth(self) -> bool:
        return self.category == Category.AUTH

    def as_dict(self) -> dict:
        return {"errcode": self.errcode, "errmsg": self.errmsg, "meaning_zh": self.meaning_zh, "meaning_en": self.meaning_en}


class WeChatTimeout(WeChatError):
    """No answer in time. The call may or may not have taken effect at WeChat."""

    def __init__(self, errmsg: str = "", *, endpoint: str = ""):
        super().__init__(TIMEOUT, errmsg, endpoint=endpoint)


class WeChatRefreshBackoff(WeChatError):
    """A token refresh failed moments ago and is not tried again before ``retry_at``: that failure, re-raised.

    Carries the failed refresh's errcode, errmsg and meaning, so callers and operators see what WeChat said.
    """

    def __init__(self, errcode: int, errmsg: str = "", *, retry_at, endpoint: str = ""):
        super().__init__(errcode, errmsg, endpoint=endpoint)
        self.retry_at = retry_at

"""State of the offline WeChat imitation. Nothing outside sandbox/ reads these tables."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SandboxApp(models.Model):
    """An official account as WeChat's side knows it (the console configuration)."""

    appid = models.CharField(max_length=32, unique=True)
    secret = models.CharField(max_length=64)
    original_id = models.CharField(max_length=32)
    callback_token = models.CharField(max_length=32)
    encoding_aes_key = models.CharField(max_length=43, blank=True)
    encoding_mode = models.CharField(max_length=16, default="plain")
    callback_url = models.CharField(max_length=255)
    account_type = models.CharField(max_length=16, default="service")
    verified = models.BooleanField(default=True)
    # Seconds added to the real clock for this app, so tests can move WeChat's time forward.
    clock_offset = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("sandbox app")
        verbose_name_plural = _("sandbox apps")

    def __str__(self):
        return self.appid


class SandboxCredential(models.Model):
    class Kind(models.TextChoices):
        TOKEN = "token"
        STABLE_TOKEN = "stable_token"
        JSAPI_TICKET = "jsapi_ticket"

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="credentials")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.CharField(max_length=200, unique=True)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["app", "kind", "-issued_at"], name="sandbox_cred_latest_idx")]


class SandboxQuota(models.Model):
    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="quotas")
    api = models.CharField(max_length=128)
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)
    limit = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["app", "api", "day"], name="uniq_sandbox_quota")]


class SandboxFault(models.Model):
    """Injected misbehaviour for matching calls: latency, an errcode, or a timeout."""

    class Kind(models.TextChoices):
        LATENCY = "latency"  # value = milliseconds, then answer normally (a standing one lets another fault apply)
        ERRCODE = "errcode"  # value = errcode to answer instead
        TIMEOUT_BEFORE = "timeout_before"  # the caller times out; the call had no effect
        TIMEOUT_AFTER = "timeout_after"  # the call took effect, but the caller times out

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, null=True, blank=True, related_name="faults")
    api = models.CharField(max_length=128, help_text="endpoint path such as cgi-bin/token, or * for all")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.IntegerField(default=0)
    remaining = models.PositiveIntegerField(null=True, blank=True, help_text="calls left to affect; empty: all")
    created_at = models.DateTimeField(auto_now_add=True)


class SandboxCall(models.Model):
    """Every call the sandbox answered, for tests and the simulator to inspect."""

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, null=True, blank=True, related_name="calls")
    api = models.CharField(max_length=128, db_index=True)
    errcode = models.IntegerField(default=0)
    request_json = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class SandboxDelivery(models.Model):
    """A message that reached a follower's phone through an API (customer service, template, mass)."""

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="deliveries")
    openid = models.CharField(max_length=64, db_index=True)
    channel = models.CharField(max_length=32)  # custom, template, mass, passive
    msgtype = models.CharField(max_length=32)
    payload = models.JSONField(default=dict)
    msg_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class SandboxFollower(models.Model):
    """A WeChat user as WeChat's side knows them for one app."""

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="followers")
    openid = models.CharField(max_length=64)
    unionid = models.CharField(max_length=64, blank=True)
    subscribed = models.BooleanField(default=True)
    subscribe_time = models.IntegerField(default=0)
    subscribe_scene = models.CharField(max_length=32, default="ADD_SCENE_OTHERS")
    qr_scene = models.IntegerField(default=0)
    qr_scene_str = models.CharField(max_length=64, blank=True)
    language = models.CharField(max_length=16, default="zh_CN")
    remark = models.CharField(max_length=30, blank=True)
    tagids = models.JSONField(default=list)
    blacklisted = models.BooleanField(default=False)
    last_interaction_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["app", "openid"], name="uniq_sandbox_follower")]


class SandboxTag(models.Model):
    """A follower tag created through tags/create. The reserved tags (0, 1, 2) are not stored."""

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="tags")
    tagid = models.IntegerField()
    name = models.CharField(max_length=64)

    class Meta:
        ordering = ["tagid"]
        constraints = [
            models.UniqueConstraint(fields=["app", "tagid"], name="uniq_sandbox_tag_id"),
            models.UniqueConstraint(fields=["app", "name"], name="uniq_sandbox_tag_name"),
        ]


class SandboxOAuthGrant(models.Model):
    """An OAuth2 web authorisation: the code a user's consent produced, then the tokens it was exchanged for."""

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="oauth_grants")
    openid = models.CharField(max_length=64)
    scope = models.CharField(max_length=32)
    is_snapshotuser = models.BooleanField(default=False)
    code = models.CharField(max_length=64, unique=True)
    code_issued_at = models.DateTimeField()
    code_used_at = models.DateTimeField(null=True, blank=True)
    access_token = models.CharField(max_length=128, blank=True, db_index=True)
    access_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_token = models.CharField(max_length=128, blank=True, db_index=True)
    refresh_expires_at = models.DateTimeField(null=True, blank=True)


class SandboxKfAccount(models.Model):
    """A customer-service account (客服帐号) as WeChat keeps it for one app."""

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="kf_accounts")
    kf_account = models.CharField(max_length=64)
    kf_id = models.CharField(max_length=32)
    nickname = models.CharField(max_length=32)
    headimgurl = models.CharField(max_length=255, blank=True)
    headimg = models.BinaryField(blank=True, default=b"")
    kf_wx = models.CharField(max_length=64, blank=True)
    invite_wx = models.CharField(max_length=64, blank=True)
    invite_expire_time = models.IntegerField(default=0)
    invite_status = models.CharField(max_length=16, blank=True)  # waiting, rejected, expired (derived on read)
    online_status = models.PositiveSmallIntegerField(default=0)
    accepted_case = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["app", "kf_account"], name="uniq_sandbox_kf_account")]


class SandboxTemplate(models.Model):
    """A private template (我的模板) of an app, added from the library or seeded by a test."""

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="message_templates")
    template_id = models.CharField(max_length=64)
    template_id_short = models.CharField(max_length=64, blank=True)
    title = models.CharField(max_length=128)
    primary_industry = models.CharField(max_length=64, blank=True)
    deputy_industry = models.CharField(max_length=64, blank=True)
    content = models.TextField()
    example = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["app", "template_id"], name="uniq_sandbox_template")]


class SandboxTemplateSettings(models.Model):
    """Per-app template settings: the industry pair and the per-minute send counter (45011)."""

    app = models.OneToOneField(SandboxApp, on_delete=models.CASCADE, related_name="template_settings")
    industry_id1 = models.CharField(max_length=8, blank=True)
    industry_id2 = models.CharField(max_length=8, blank=True)
    industry_set_at = models.DateTimeField(null=True, blank=True)
    minute_limit = models.PositiveIntegerField(default=600_000)
    minute = models.BigIntegerField(default=0)  # unix minute of the counter
    minute_count = models.PositiveIntegerField(default=0)


class SandboxTemplateSend(models.Model):
    """One accepted message/template/send; client_msg_id dedupes a resend to the first msgid."""

    MSGID_BASE = 2_000_000_000

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="template_sends")
    openid = models.CharField(max_length=64)
    template_id = models.CharField(max_length=64)
    client_msg_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["app", "client_msg_id"], condition=~models.Q(client_msg_id=""), name="uniq_sandbox_template_cmid"
            )
        ]

    @property
    def msgid(self) -> int:
        return self.MSGID_BASE + self.pk


class SandboxTemplateReceiver(models.Model):
    """How a follower's phone treats template messages, for tests and the simulator."""

    class Behaviour(models.TextChoices):
        REFUSE = "refuse"  # refused this account's templates: the send fails with 43101, no event
        BLOCK = "block"  # accepted by the API, then TEMPLATESENDJOBFINISH "failed:user block"
        SYSTEM_FAIL = "system_fail"  # accepted, then "failed: system failed"

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="template_receivers")
    openid = models.CharField(max_length=64)
    behaviour = models.CharField(max_length=16, choices=Behaviour.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["app", "openid"], name="uniq_sandbox_template_receiver")]


class SandboxQRCode(models.Model):
    """A parametric QR code WeChat created for an app (qrcode/create): what the simulator's phone can scan."""

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="qrcodes")
    ticket = models.CharField(max_length=255, unique=True)
    url = models.CharField(max_length=255, unique=True)
    action_name = models.CharField(max_length=32)
    scene = models.CharField(max_length=64)  # the scene id as a string, or the scene string: the EventKey
    expires_at = models.DateTimeField(null=True, blank=True)  # None: permanent
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["app", "scene"], name="sandbox_qrcode_scene_idx")]

    @property
    def permanent(self) -> bool:
        return self.expires_at is None


class SandboxMenu(models.Model):
    """A custom menu of an app: the default one (created through the API or in the console) or a conditional one."""

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="menus")
    menuid = models.BigIntegerField()
    conditional = models.BooleanField(default=False)
    # WeChat's button shape. A console-made menu keeps get_current_selfmenu_info's shape (text, img, news_info…).
    buttons = models.JSONField(default=list)
    matchrule = models.JSONField(default=dict, blank=True)
    made_in_console = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["app", "menuid"], name="uniq_sandbox_menu_id"),
            models.UniqueConstraint(fields=["app"], condition=models.Q(conditional=False), name="uniq_sandbox_default_menu"),
        ]


class SandboxMedia(models.Model):
    """A temporary media (media/upload, or a file a follower sent): WeChat keeps it 3 days on the app's clock."""

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="media")
    media_id = models.CharField(max_length=128, unique=True)
    type = models.CharField(max_length=8)
    filename = models.CharField(max_length=255, blank=True)
    content = models.BinaryField(default=b"")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()


class SandboxMaterial(models.Model):
    """A permanent material (material/add_material) in an app's library."""

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="materials")
    media_id = models.CharField(max_length=128, unique=True)
    type = models.CharField(max_length=8)
    name = models.CharField(max_length=255, blank=True)
    content = models.BinaryField(default=b"")
    title = models.CharField(max_length=128, blank=True)
    description = models.TextField(blank=True)
    url = models.CharField(max_length=255, blank=True)
    update_time = models.IntegerField()

    class Meta:
        ordering = ["-update_time", "-id"]


class SandboxArticleImage(models.Model):
    """An image uploaded with media/uploadimg for use inside article HTML; served back at its URL."""

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="article_images")
    key = models.CharField(max_length=64, unique=True)
    content_type = models.CharField(max_length=32)
    content = models.BinaryField(default=b"")
    created_at = models.DateTimeField(auto_now_add=True)


class SandboxDraft(models.Model):
    """A draft in an app's draft box (草稿箱); a published one stays for mass sends but leaves the box."""

    class State(models.TextChoices):
        DRAFT = "draft"
        PUBLISHED = "published"

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="drafts")
    media_id = models.CharField(max_length=128, unique=True)
    articles = models.JSONField(default=list)
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    update_time = models.IntegerField()

    class Meta:
        ordering = ["-update_time", "-id"]


class SandboxPublish(models.Model):
    """One freepublish/submit: its job, then the published item (article_id) with its articles and URLs."""

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="publishes")
    media_id = models.CharField(max_length=128)
    articles = models.JSONField(default=list)  # the draft's articles, with url, need_open_comment and is_deleted
    status = models.IntegerField(default=1)  # publish_status: 1 publishing until PUBLISHJOBFINISH
    fail_idx = models.JSONField(default=list)
    article_id = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    PUBLISH_ID_BASE = 2_247_000_000
    MSG_DATA_ID_BASE = 2_650_000_000

    class Meta:
        ordering = ["-id"]

    @property
    def publish_id(self) -> str:
        return str(self.PUBLISH_ID_BASE + self.pk)

    @property
    def msg_data_id(self) -> int:
        return self.MSG_DATA_ID_BASE + self.pk


class SandboxComment(models.Model):
    """A follower's comment (留言) on a published article, with the account's reply."""

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="comments")
    msg_data_id = models.BigIntegerField()
    index = models.PositiveSmallIntegerField()
    user_comment_id = models.PositiveIntegerField()
    openid = models.CharField(max_length=64)
    content = models.TextField()
    create_time = models.IntegerField()
    elected = models.BooleanField(default=False)
    deleted = models.BooleanField(default=False)
    reply_content = models.TextField(blank=True)
    reply_time = models.IntegerField(default=0)

    class Meta:
        ordering = ["msg_data_id", "index", "user_comment_id"]
        constraints = [
            models.UniqueConstraint(fields=["app", "msg_data_id", "index", "user_comment_id"], name="uniq_sandbox_comment")
        ]

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wechat.models import WeChatSynced

# The tables keep the names they had when these models lived in accounts: moving them needed no DDL.

# WeChat's subscribe_scene values, named as the WeChat console and documentation name them.
SUBSCRIBE_SCENES = {
    "ADD_SCENE_SEARCH": _("Official account search (公众号搜索)"),
    "ADD_SCENE_ACCOUNT_MIGRATION": _("Account migration (公众号迁移)"),
    "ADD_SCENE_PROFILE_CARD": _("Business card shared (名片分享)"),
    "ADD_SCENE_QR_CODE": _("QR code scan (扫描二维码)"),
    "ADD_SCENE_PROFILE_LINK": _("Name tapped in an article (图文页内名称点击)"),
    "ADD_SCENE_PROFILE_ITEM": _("Article's top-right menu (图文页右上角菜单)"),
    "ADD_SCENE_PAID": _("After a payment (支付后关注)"),
    "ADD_SCENE_WECHAT_ADVERTISEMENT": _("WeChat advertisement (微信广告)"),
    "ADD_SCENE_REPRINT": _("Reprinted by others (他人转载)"),
    "ADD_SCENE_LIVESTREAM": _("Channels live stream (视频号直播)"),
    "ADD_SCENE_CHANNELS": _("Channels (视频号)"),
    "ADD_SCENE_WXA": _("Mini program (小程序关注)"),
    "ADD_SCENE_OTHERS": _("Other (其他)"),
}


class Tag(WeChatSynced):
    """A follower tag (标签, formerly 分组). ``wechat_id`` is WeChat's tag id once created there."""

    RESERVED_IDS = (0, 1, 2)
    MAX_PER_ACCOUNT = 100
    MAX_PER_FOLLOWER = 20
    MAX_NAME_BYTES = 30

    account = models.ForeignKey(
        "accounts.OfficialAccount", on_delete=models.CASCADE, related_name="tags", verbose_name=_("account")
    )
    wechat_id = models.IntegerField(_("WeChat tag id"), null=True, blank=True)
    name = models.CharField(_("name"), max_length=30)
    follower_count = models.PositiveIntegerField(_("followers (per WeChat)"), default=0)

    class Meta:
        db_table = "accounts_tag"
        verbose_name = _("tag (用户标签)")
        verbose_name_plural = _("tags (用户标签)")
        ordering = ["account", "name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="uniq_tag_name_per_account"),
            models.UniqueConstraint(fields=["account", "wechat_id"], name="uniq_tag_wechat_id_per_account"),
        ]

    def __str__(self):
        return self.name


class SubscribeScene(models.TextChoices):
    """How a follower followed (user/info ``subscribe_scene``, API.md §4); WeChat may add values, shown as they are."""

    SEARCH = "ADD_SCENE_SEARCH", _("Search (公众号搜索)")
    ACCOUNT_MIGRATION = "ADD_SCENE_ACCOUNT_MIGRATION", _("Account migration (公众号迁移)")
    PROFILE_CARD = "ADD_SCENE_PROFILE_CARD", _("Profile card (名片分享)")
    QR_CODE = "ADD_SCENE_QR_CODE", _("QR code (扫描二维码)")
    PROFILE_LINK = "ADD_SCENE_PROFILE_LINK", _("Name in an article (图文页内名称点击)")
    PROFILE_ITEM = "ADD_SCENE_PROFILE_ITEM", _("Article menu (图文页右上角菜单)")
    PAID = "ADD_SCENE_PAID", _("After payment (支付后关注)")
    WECHAT_ADVERTISEMENT = "ADD_SCENE_WECHAT_ADVERTISEMENT", _("WeChat ad (微信广告)")
    REPRINT = "ADD_SCENE_REPRINT", _("Reprinted article (他人转载)")
    LIVESTREAM = "ADD_SCENE_LIVESTREAM", _("Channels live stream (视频号直播)")
    CHANNELS = "ADD_SCENE_CHANNELS", _("Channels (视频号)")
    WXA = "ADD_SCENE_WXA", _("Mini program (小程序关注)")
    OTHERS = "ADD_SCENE_OTHERS", _("Other (其他)")


class Follower(models.Model):
    """A user of an official account. WeChat returns no nickname or avatar since 2021-12-27."""

    # No index of its own: the (account, openid) constraint's index starts with it.
    account = models.ForeignKey(
        "accounts.OfficialAccount",
        on_delete=models.CASCADE,
        related_name="followers",
        verbose_name=_("account"),
        db_index=False,
    )
    openid = models.CharField(_("OpenID"), max_length=64)
    unionid = models.CharField(_("UnionID"), max_length=64, blank=True)
    subscribed = models.BooleanField(_("subscribed"), default=True)
    subscribe_time = models.DateTimeField(_("subscribed at"), null=True, blank=True, db_index=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed at"), null=True, blank=True)
    subscribe_scene = models.CharField(_("subscribe scene"), max_length=32, blank=True, choices=SubscribeScene.choices)
    # The scene of the QR code the follower followed through (scene id or string); later scans do not change it.
    qr_scene = models.CharField(_("QR scene"), max_length=64, blank=True)
    language = models.CharField(_("language"), max_length=16, blank=True)
    remark = models.CharField(_("remark (备注名)"), max_length=30, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="followers", verbose_name=_("tags"))
    blacklisted = models.BooleanField(_("blacklisted"), default=False)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    location_precision = models.FloatField(_("location precision"), null=True, blank=True)
    location_at = models.DateTimeField(_("location reported at"), null=True, blank=True)
    # Last message, menu click, follow or scan: the start of the 48-hour customer-service window.
    last_interaction_at = models.DateTimeField(_("last interaction"), null=True, blank=True)
    synced_at = models.DateTimeField(_("synced at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        db_table = "accounts_follower"
        verbose_name = _("follower (粉丝)")
        verbose_name_plural = _("followers (粉丝)")
        ordering = ["-subscribe_time", "id"]
        constraints = [models.UniqueConstraint(fields=["account", "openid"], name="uniq_follower_openid_per_account")]
        # Every index is paid by each of a full sync's million inserts. The rare values (unfollowed, blacklisted,
        # ever interacted) are indexed partially, so a synced follower, who has none of them, costs those indexes
        # nothing; the unionid is only searched by substring, which no B-tree serves.
        indexes = [
            models.Index(fields=["account", "subscribe_scene"], name="follower_scene"),
            models.Index(fields=["account"], condition=models.Q(subscribed=False), name="follower_unsubscribed"),
            models.Index(fields=["account"], condition=models.Q(blacklisted=True), name="follower_blacklisted"),
            models.Index(
                fields=["account", "last_interaction_at"],
                condition=models.Q(last_interaction_at__isnull=False),
                name="follower_last_interaction",
            ),
        ]

    def __str__(self):
        return self.remark or self.openid

    @property
    def subscribe_scene_label(self) -> str:
        """The subscribe scene as the console names it; an unknown value as WeChat sent it."""
        return str(SUBSCRIBE_SCENES.get(self.subscribe_scene, self.subscribe_scene))


class FollowerOperation(WeChatSynced):
    """One change to followers on WeChat's side (tag, untag, blacklist, remark), sent by a task in one call.

    A row is the unit of retry and the audit record: what was asked, for whom, and what WeChat answered.
    """

    class Kind(models.TextChoices):
        TAG = "tag", _("add to tag (打标签)")
        UNTAG = "untag", _("remove from tag (取消标签)")
        BLACKLIST = "blacklist", _("add to blacklist (拉黑)")
        UNBLACKLIST = "unblacklist", _("remove from blacklist (取消拉黑)")
        REMARK = "remark", _("set remark (备注名)")

    account = models.ForeignKey(
        "accounts.OfficialAccount", on_delete=models.CASCADE, related_name="follower_operations", verbose_name=_("account")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    tag = models.ForeignKey(
        Tag, on_delete=models.CASCADE, null=True, blank=True, related_name="operations", verbose_name=_("tag")
    )
    openids = models.JSONField(_("OpenIDs"), default=list)
    remark = models.CharField(_("remark"), max_length=30, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True, db_index=True)

    class Meta:
        db_table = "accounts_followeroperation"
        verbose_name = _("follower change (粉丝操作记录)")
        verbose_name_plural = _("follower changes (粉丝操作记录)")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} × {len(self.openids)}"


class SyncJob(models.Model):
    """One pull of WeChat state into the database (e.g. every follower), with its progress and resumable cursor.

    At most one job per account and kind is queued or running (a partial unique constraint). A running job
    holds a lease that each committed chunk renews; a job whose lease ran out (its worker died) is resumed
    from ``page_token`` + ``page_offset`` rather than restarted.
    """

    class Kind(models.TextChoices):
        FOLLOWERS = "followers", _("followers (粉丝)")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    account = models.ForeignKey(
        "accounts.OfficialAccount", on_delete=models.CASCADE, related_name="sync_jobs", verbose_name=_("account")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.FOLLOWERS)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    total = models.PositiveIntegerField(_("total (per WeChat)"), default=0)
    done = models.PositiveIntegerField(_("done"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    # Cursor: the next_openid that fetches the current page, and how many of its openids are committed.
    page_token = models.CharField(_("page token (next_openid)"), max_length=64, blank=True)
    page_offset = models.PositiveIntegerField(_("offset in page"), default=0)
    # Incremented by each claim, so a runner that lost its lease cannot write over its successor.
    attempt = models.PositiveIntegerField(_("attempt"), default=0)
    errcode = models.IntegerField(_("errcode"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("started by")
    )
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True)

    class Meta:
        db_table = "accounts_syncjob"
        verbose_name = _("sync job (同步任务)")
        verbose_name_plural = _("sync jobs (同步任务)")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "kind"], condition=models.Q(status__in=["queued", "running"]), name="uniq_active_sync_job"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"


class FollowerDailyStat(models.Model):
    """One day of an account's follower figures as WeChat's data cube reports them (getusersummary/getusercumulate)."""

    account = models.ForeignKey(
        "accounts.OfficialAccount", on_delete=models.CASCADE, related_name="follower_stats", verbose_name=_("account")
    )
    day = models.DateField(_("day"))
    new_user = models.PositiveIntegerField(_("new followers"), default=0)
    cancel_user = models.PositiveIntegerField(_("unfollowed"), default=0)
    cumulate_user = models.PositiveIntegerField(_("followers at the end of the day"), null=True, blank=True)
    # New followers by WeChat's user_source code (0 other, 1 search, 17 business card, 30 QR code…).
    new_by_source = models.JSONField(_("new followers by source"), default=dict)
    pulled_at = models.DateTimeField(_("pulled at"), auto_now=True)

    class Meta:
        verbose_name = _("daily follower figures")
        verbose_name_plural = _("daily follower figures")
        ordering = ["account", "day"]
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="uniq_follower_stat_day")]

    def __str__(self):
        return f"{self.account_id} {self.day}"

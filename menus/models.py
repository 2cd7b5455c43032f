"""Custom menus (自定义菜单): the menus an account edits, their buttons as rows, and every published version."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wechat.models import WeChatSynced


class ButtonType(models.TextChoices):
    CLICK = "click", _("Click: send a key (点击推事件)")
    VIEW = "view", _("Open a web page (跳转网页)")
    MINIPROGRAM = "miniprogram", _("Open a mini program (跳转小程序)")
    SCANCODE_PUSH = "scancode_push", _("Scan a code (扫码推事件)")
    SCANCODE_WAITMSG = "scancode_waitmsg", _("Scan a code, wait for a reply (扫码带提示)")
    PIC_SYSPHOTO = "pic_sysphoto", _("Take a photo (系统拍照发图)")
    PIC_PHOTO_OR_ALBUM = "pic_photo_or_album", _("Photo or album (拍照或者相册发图)")
    PIC_WEIXIN = "pic_weixin", _("WeChat album (微信相册发图)")
    LOCATION_SELECT = "location_select", _("Send a location (发送位置)")
    MEDIA_ID = "media_id", _("Send a material (下发消息)")
    VIEW_LIMITED = "view_limited", _("Open a material's article (跳转图文消息, legacy)")
    ARTICLE_ID = "article_id", _("Send a published article (发布后的图文)")
    ARTICLE_VIEW_LIMITED = "article_view_limited", _("Open a published article (发布后的图文页)")


# What each type needs besides its name (API.md §6).
KEY_TYPES = frozenset(
    {"click", "scancode_push", "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album", "pic_weixin", "location_select"}
)
URL_TYPES = frozenset({"view", "miniprogram"})
MEDIA_TYPES = frozenset({"media_id", "view_limited"})
ARTICLE_TYPES = frozenset({"article_id", "article_view_limited"})


class Menu(WeChatSynced):
    """One menu of an account: the default menu, or a conditional one (个性化菜单) matched by tag and platform.

    The buttons being edited are ``MenuButton`` rows; what was published is kept in ``MenuVersion``.
    ``sync_status`` is the state of the last publish: pending (queued), syncing, synced or failed with
    ``last_error``.
    """

    class Kind(models.TextChoices):
        DEFAULT = "default", _("Default menu (默认菜单)")
        CONDITIONAL = "conditional", _("Conditional menu (个性化菜单)")

    class Platform(models.TextChoices):
        IOS = "1", "iOS"
        ANDROID = "2", "Android"
        OTHER = "3", _("Other (其他)")

    account = models.ForeignKey(
        "accounts.OfficialAccount", on_delete=models.CASCADE, related_name="menus", verbose_name=_("account")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.DEFAULT)
    name = models.CharField(_("name"), max_length=60, help_text=_("For operators only; followers never see it."))
    tag_id = models.IntegerField(_("follower tag"), null=True, blank=True, help_text=_("Conditional menus: WeChat's tag id."))
    client_platform_type = models.CharField(
        _("client platform"), max_length=1, choices=Platform.choices, blank=True, help_text=_("Conditional menus only.")
    )
    menuid = models.CharField(_("WeChat menuid"), max_length=32, blank=True, db_index=True)
    has_unpublished_changes = models.BooleanField(_("unpublished changes"), default=True)
    # Who asked for the publish under way, and the version it restores (a rollback), for the version it records.
    publish_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    publish_rollback_of = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("custom menu (自定义菜单)")
        verbose_name_plural = _("custom menus (自定义菜单)")
        ordering = ["account", "kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(kind="default"),
                name="uniq_menus_default_menu",
                violation_error_message=_("This account already has a default menu: edit it, or add a conditional menu."),
            )
        ]

    def __str__(self):
        return self.name

    @property
    def matchrule(self) -> dict:
        """WeChat's matchrule: the tag and the platform only, as strings."""
        rule = {}
        if self.tag_id is not None:
            rule["tag_id"] = str(self.tag_id)
        if self.client_platform_type:
            rule["client_platform_type"] = self.client_platform_type
        return rule


class MenuButton(models.Model):
    """A top-level button (``parent`` empty) or a sub-button; a top-level button with sub-buttons has no type."""

    menu = models.ForeignKey(Menu, on_delete=models.CASCADE, related_name="buttons", verbose_name=_("menu"))
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children", verbose_name=_("parent")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    name = models.CharField(_("name"), max_length=60)
    type = models.CharField(_("type"), max_length=32, blank=True)
    key = models.CharField(_("key"), max_length=128, blank=True, db_index=True)
    url = models.CharField(_("URL"), max_length=1024, blank=True)
    media_id = models.CharField(_("media_id"), max_length=128, blank=True)
    article_id = models.CharField(_("article_id"), max_length=128, blank=True)
    appid = models.CharField(_("mini program AppID"), max_length=32, blank=True)
    pagepath = models.CharField(_("mini program page"), max_length=255, blank=True)
    # Console-only buttons pulled from the live menu (text, img, news…): what WeChat showed, kept for the operator.
    console_value = models.JSONField(_("console content"), null=True, blank=True)

    class Meta:
        verbose_name = _("menu button")
        verbose_name_plural = _("menu buttons")
        ordering = ["menu", "parent_id", "position", "id"]
        indexes = [models.Index(fields=["type", "key"], name="menus_button_type_key_idx")]

    def __str__(self):
        return self.name


class MenuVersion(models.Model):
    """A menu as it was published from here: exactly the buttons and matchrule WeChat accepted."""

    class Source(models.TextChoices):
        PUBLISHED = "published", _("Published")
        ROLLBACK = "rollback", _("Rolled back")

    account = models.ForeignKey(
        "accounts.OfficialAccount", on_delete=models.CASCADE, related_name="menu_versions", verbose_name=_("account")
    )
    menu = models.ForeignKey(
        Menu, on_delete=models.SET_NULL, null=True, blank=True, related_name="versions", verbose_name=_("menu")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Menu.Kind.choices)
    number = models.PositiveIntegerField(_("version"))
    buttons = models.JSONField(_("buttons"), default=list)
    matchrule = models.JSONField(_("match rule"), default=dict, blank=True)
    menuid = models.CharField(_("WeChat menuid"), max_length=32, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.PUBLISHED)
    rolled_back_from = models.PositiveIntegerField(_("rolled back to version"), null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    published_at = models.DateTimeField(_("published at"), auto_now_add=True)

    class Meta:
        verbose_name = _("published menu version")
        verbose_name_plural = _("published menu versions")
        ordering = ["-published_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["account", "number"], name="uniq_menus_version_number")]

    def __str__(self):
        return f"v{self.number}"

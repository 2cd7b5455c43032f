from auditlog.models import AbstractLogEntry, LogEntryManager
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from encrypted_fields.fields import EncryptedCharField

from wechat.base_urls import api_base_allowed, api_bases_allowed

appid_validator = RegexValidator(r"^wx[0-9a-f]{16}$", _("An AppID is 'wx' followed by 16 lowercase hex characters."))
aes_key_validator = RegexValidator(r"^[A-Za-z0-9]{43}$", _("An EncodingAESKey is exactly 43 letters and digits."))
token_validator = RegexValidator(r"^[A-Za-z0-9]{3,32}$", _("The callback Token is 3 to 32 letters and digits."))


def api_base_url_validator(value: str) -> None:
    """Only base URLs the deployment allows (wechat.base_urls): whoever answers there gets the AppSecret."""
    if value and not api_base_allowed(value):
        raise ValidationError(
            _("This base URL is not on the allowed list (WECHAT_API_BASE_URL_ALLOWED): %(allowed)s"),
            code="base_url_not_allowed",
            params={"allowed": ", ".join(api_bases_allowed())},
        )


class OfficialAccount(models.Model):
    class EncodingMode(models.TextChoices):
        PLAIN = "plain", _("Plaintext (明文模式)")
        COMPATIBLE = "compatible", _("Compatible (兼容模式)")
        SAFE = "safe", _("Safe (安全模式)")

    class AccountType(models.TextChoices):
        SUBSCRIPTION = "subscription", _("Subscription account (订阅号)")
        SERVICE = "service", _("Service account (服务号)")

    name = models.CharField(_("name"), max_length=64)
    appid = models.CharField(_("AppID"), max_length=32, unique=True, validators=[appid_validator])
    original_id = models.CharField(
        _("original ID"),
        max_length=32,
        blank=True,
        help_text=_("gh_… shown in the WeChat console; filled from the first callback."),
    )
    app_secret = EncryptedCharField(_("AppSecret"), max_length=128)
    token = models.CharField(_("callback Token"), max_length=32, validators=[token_validator])
    # The encrypted field stores an empty value as NULL.
    encoding_aes_key = EncryptedCharField(
        _("EncodingAESKey"), max_length=43, blank=True, null=True, validators=[aes_key_validator]
    )
    encoding_mode = models.CharField(_("encoding mode"), max_length=16, choices=EncodingMode.choices, default=EncodingMode.PLAIN)
    account_type = models.CharField(_("account type"), max_length=16, choices=AccountType.choices, default=AccountType.SERVICE)
    verified = models.BooleanField(_("verified (已认证)"), default=False)
    use_stable_token = models.BooleanField(
        _("use stable_token"),
        default=True,
        help_text=_("Fetch access_token with the stable_token interface, which does not evict tokens held elsewhere."),
    )
    # Receives the AppSecret: set by superusers only, and only to a base URL the deployment allows.
    api_base_url = models.URLField(
        _("API base URL"),
        blank=True,
        validators=[api_base_url_validator],
        help_text=_("Leave empty for WeChat itself. The sandbox account points at the offline sandbox."),
    )
    default_reply_text = models.TextField(
        _("default text reply"),
        blank=True,
        help_text=_("Sent when a follower's message matches nothing else. Empty: answer 'success' (no reply)."),
    )
    js_domains = models.TextField(
        _("JS-SDK / OAuth domains"),
        blank=True,
        help_text=_("One domain per line, as set in the WeChat console (JS接口安全域名 / 网页授权域名)."),
    )
    operators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="official_accounts",
        verbose_name=_("operators"),
        help_text=_("Staff who may manage this account. Superusers manage every account."),
    )
    # Operators who may also grant and withdraw access to the account; appointed by superusers.
    administrators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="administered_accounts",
        verbose_name=_("administrators"),
        help_text=_("Operators of this account who may also change its operators. Only superusers appoint them."),
    )
    is_sandbox = models.BooleanField(_("sandbox account"), default=False, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("official account")
        verbose_name_plural = _("official accounts")
        ordering = ["name"]
        permissions = [("borrow_access_token", _("Can read the account's access_token through the API"))]

    def __str__(self):
        return f"{self.name} ({self.appid})"

    @property
    def api_base(self) -> str:
        return (self.api_base_url or settings.WECHAT_API_BASE_URL).rstrip("/") + "/"

    @property
    def callback_path(self) -> str:
        return f"/wechat/{self.appid}/callback/"

    @property
    def callback_url(self) -> str:
        return settings.SITE_URL + self.callback_path

    @property
    def encrypts(self) -> bool:
        return self.encoding_mode != self.EncodingMode.PLAIN

    @property
    def allowed_domains(self) -> list[str]:
        return [line.strip().lower() for line in self.js_domains.splitlines() if line.strip()]


def audited_account_id(instance) -> int | None:
    """The account a model instance belongs to: itself, its ``account``, or none."""
    if isinstance(instance, OfficialAccount):
        return instance.pk
    return getattr(instance, "account_id", None)


class AuditEntryManager(LogEntryManager):
    """Entries of model changes carry the account of the changed row, so operators find their accounts' entries."""

    def log_create(self, instance, force_log=False, **kwargs):
        kwargs.setdefault("account_id", audited_account_id(instance))
        return super().log_create(instance, force_log=force_log, **kwargs)

    def log_m2m_changes(self, changed_queryset, instance, operation, field_name, **kwargs):
        kwargs.setdefault("account_id", audited_account_id(instance))
        return super().log_m2m_changes(changed_queryset, instance, operation, field_name, **kwargs)


class AuditEntry(AbstractLogEntry):
    """The audit trail (django-auditlog's entry, ``AUDITLOG_LOGENTRY_MODEL``): who changed what, and every WeChat call
    that changed WeChat state, with its result. ``account`` scopes an entry to the operators of that account; entries
    with none (users, groups, global settings) are shown to superusers only. See ``accounts.audit``."""

    class Action(AbstractLogEntry.Action):
        WECHAT_CALL = 4

        choices = (*AbstractLogEntry.Action.choices, (WECHAT_CALL, _("WeChat call")))

    action = models.PositiveSmallIntegerField(_("action"), choices=Action.choices, db_index=True)
    account = models.ForeignKey(
        OfficialAccount,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_entries",
        verbose_name=_("account"),
    )
    # WeChat calls only: the endpoint path (as in the call log) and WeChat's answer, 0 when it accepted.
    endpoint = models.CharField(_("WeChat endpoint"), max_length=128, blank=True, db_index=True)
    errcode = models.IntegerField(_("errcode"), null=True, blank=True)

    objects = AuditEntryManager()

    class Meta(AbstractLogEntry.Meta):
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        indexes = [models.Index(fields=["account", "-timestamp"], name="audit_account_time")]

    def __str__(self):
        if self.action == self.Action.WECHAT_CALL:
            return _("WeChat call %(endpoint)s for %(account)s") % {"endpoint": self.endpoint, "account": self.object_repr}
        return super().__str__()

"""The mass-send form: audience, content and filter, checked by the services' validation."""

from __future__ import annotations

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.selectors import accounts_for_user
from followers.models import Follower, Tag
from media_assets.forms import library_refusal, picker_attach
from media_assets.selectors import mpnews_media_id_known
from messaging.admin_forms import conditional_attrs, picked_openids
from messaging.mass import services as mass
from messaging.mass.models import MassMessage

# What the media library supplies per message type (mpnews names a draft, checked by the articles' own rules).
LIBRARY_KINDS = {MassMessage.MsgType.VOICE: ["voice"], MassMessage.MsgType.VIDEO: ["video"]}

# The fields each message type and each audience uses; the others are hidden (and ignored by the send).
MSGTYPE_FIELDS = {
    MassMessage.MsgType.TEXT: ["content"],
    MassMessage.MsgType.IMAGE: ["media_ids_text", "recommend", "need_open_comment", "only_fans_can_comment"],
    MassMessage.MsgType.VOICE: ["media_id"],
    MassMessage.MsgType.VIDEO: ["media_id", "video_title", "video_description"],
    MassMessage.MsgType.MPNEWS: ["media_id", "send_ignore_reprint"],
    MassMessage.MsgType.CARD: ["card_id"],
}
AUDIENCE_FIELDS = {
    MassMessage.Audience.ALL: [],
    MassMessage.Audience.TAG: ["tag"],
    MassMessage.Audience.OPENIDS: ["followers", "openids_text", "openids_file"],
    MassMessage.Audience.FILTER: ["filter_tag", "filter_scene", "filter_after", "filter_before"],
}


# WeChat's subscribe_scene values (user/info), as the follower filter offers them.
SUBSCRIBE_SCENES = [
    ("", "—"),
    ("ADD_SCENE_SEARCH", _("Search (公众号搜索)")),
    ("ADD_SCENE_ACCOUNT_MIGRATION", _("Account migration (公众号迁移)")),
    ("ADD_SCENE_PROFILE_CARD", _("Shared profile card (名片分享)")),
    ("ADD_SCENE_QR_CODE", _("QR code scan (扫描二维码)")),
    ("ADD_SCENE_PROFILE_LINK", _("Name link in an article (图文页内名称点击)")),
    ("ADD_SCENE_PROFILE_ITEM", _("Article page menu (图文页右上角菜单)")),
    ("ADD_SCENE_PAID", _("After paying (支付后关注)")),
    ("ADD_SCENE_WECHAT_ADVERTISEMENT", _("WeChat ad (微信广告)")),
    ("ADD_SCENE_REPRINT", _("Reprinted article (他人转载)")),
    ("ADD_SCENE_LIVESTREAM", _("Channels live stream (视频号直播)")),
    ("ADD_SCENE_CHANNELS", _("Channels (视频号)")),
    ("ADD_SCENE_WXA", _("Mini program (小程序关注)")),
    ("ADD_SCENE_OTHERS", _("Other (其他)")),
]


class MassMessageForm(forms.ModelForm):
    followers = forms.ModelMultipleChoiceField(
        label=_("Followers"), queryset=Follower.objects.none(), to_field_name="openid", required=False
    )
    media_ids_text = forms.CharField(
        label=_("image media_ids"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One media_id per line (image sends)."),
    )
    openids_text = forms.CharField(
        label=_("more OpenIDs (pasted)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For long lists: one per line, or separated by commas. Duplicates are removed."),
    )
    openids_file = forms.FileField(
        label=_("OpenIDs (CSV upload)"), required=False, help_text=_("The first column of each row; a header row is skipped.")
    )
    filter_tag = forms.ModelChoiceField(label=_("filter: tag"), queryset=Tag.objects.none(), required=False)
    filter_scene = forms.ChoiceField(label=_("filter: subscribe scene"), required=False, choices=SUBSCRIBE_SCENES)
    filter_after = forms.DateField(
        label=_("filter: subscribed on or after"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    filter_before = forms.DateField(
        label=_("filter: subscribed on or before"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = MassMessage
        fields = [
            "account",
            "title",
            "msgtype",
            "content",
            "media_id",
            "recommend",
            "need_open_comment",
            "only_fans_can_comment",
            "video_title",
            "video_description",
            "card_id",
            "send_ignore_reprint",
            "audience",
            "tag",
        ]
        widgets = {"content": forms.Textarea(attrs={"rows": 5})}

    # Model fields the service validates → the form fields that fill them.
    SERVICE_FIELDS = {"openids": "followers", "media_ids": "media_ids_text", "follower_filter": "filter_tag"}

    def __init__(self, *args, request=None, model_admin=None, **kwargs):
        super().__init__(*args, **kwargs)
        user_accounts = accounts_for_user(request.user) if request else None
        if "tag" in self.fields and user_accounts is not None:
            self.fields["tag"].queryset = Tag.objects.filter(account__in=user_accounts)
            self.fields["filter_tag"].queryset = Tag.objects.filter(account__in=user_accounts)
        if user_accounts is not None:
            picker_attach(self.fields["media_ids_text"], accounts=user_accounts, kinds=["image"], multiple=True)
            if "media_id" in self.fields:
                picker_attach(self.fields["media_id"], accounts=user_accounts, kinds=["voice", "video"])
        if model_admin is not None and request is not None:
            self.fields["followers"] = model_admin.follower_field(
                request,
                multiple=True,
                required=False,
                label=_("Followers"),
                help_text=_("Search by OpenID or remark; at least 2 (send one person a preview instead)."),
            )
            picker = AutocompleteSelect(MassMessage._meta.get_field("tag"), model_admin.admin_site)
            picker.choices = self.fields["filter_tag"].choices
            self.fields["filter_tag"].widget = picker
        if "msgtype" in self.fields:
            self.fields["msgtype"].widget.attrs.update(conditional_attrs(MSGTYPE_FIELDS))
            self.fields["audience"].widget.attrs.update(conditional_attrs(AUDIENCE_FIELDS))
        instance = self.instance
        if instance.pk:
            self.initial.setdefault("media_ids_text", "\n".join(instance.media_ids or []))
            openids = list(instance.openids or [])
            known = set(self.fields["followers"].queryset.filter(openid__in=openids).values_list("openid", flat=True))
            self.initial.setdefault("followers", [o for o in openids if o in known])
            self.initial.setdefault("openids_text", "\n".join(o for o in openids if o not in known))
            spec = instance.follower_filter or {}
            self.initial.setdefault("filter_tag", spec.get("tag"))
            scene = spec.get("subscribe_scene", "")
            if scene and scene not in dict(SUBSCRIBE_SCENES):
                self.fields["filter_scene"].choices = [*SUBSCRIBE_SCENES, (scene, scene)]
            self.initial.setdefault("filter_scene", scene)
            self.initial.setdefault("filter_after", spec.get("subscribed_after"))
            self.initial.setdefault("filter_before", spec.get("subscribed_before"))

    def clean(self):
        data = super().clean()
        upload = data.get("openids_file")
        try:
            picked = "\n".join(picked_openids(self))
        except ValidationError as exc:
            self.add_error("followers", exc)
            picked = ""
        pasted = f"{picked}\n{data.get('openids_text') or ''}"
        valid, invalid = mass.openids_parse(pasted, csv_bytes=upload.read() if upload else None)
        if invalid:
            self.add_error("openids_text", _("Not OpenIDs: %(list)s") % {"list": ", ".join(invalid[:5])})
        data["openids"] = valid
        data["media_ids"] = [line.strip() for line in (data.get("media_ids_text") or "").splitlines() if line.strip()]
        self._library_check(data)
        spec = {}
        if data.get("filter_tag"):
            spec["tag"] = data["filter_tag"].pk
        if data.get("filter_scene"):
            spec["subscribe_scene"] = data["filter_scene"].strip()
        if data.get("filter_after"):
            spec["subscribed_after"] = data["filter_after"].isoformat()
        if data.get("filter_before"):
            spec["subscribed_before"] = data["filter_before"].isoformat()
        data["follower_filter"] = spec
        return data

    def _library_check(self, data) -> None:
        """Media must come from the account's library: a media_id it lacks is refused here, not at send time."""
        account, msgtype = data.get("account"), data.get("msgtype")
        if account is None:
            return
        if msgtype == MassMessage.MsgType.IMAGE:
            problems = [library_refusal(account=account, media_id=m, kinds=["image"]) for m in data["media_ids"]]
            for problem in filter(None, problems):
                self.add_error("media_ids_text", problem)
        elif msgtype in LIBRARY_KINDS and (
            problem := library_refusal(account=account, media_id=data.get("media_id") or "", kinds=LIBRARY_KINDS[msgtype])
        ):
            self.add_error("media_id", problem)
        elif msgtype == MassMessage.MsgType.MPNEWS and not mpnews_media_id_known(
            account=account, media_id=(data.get("media_id") or "").strip()
        ):
            self.add_error(
                "media_id", _("Not a draft of this account: save the draft to WeChat first, then use its media_id (草稿箱).")
            )

    def _post_clean(self):
        super()._post_clean()
        if self.errors or not getattr(self.instance, "account_id", None):
            return
        self.instance.openids = self.cleaned_data.get("openids", [])
        self.instance.media_ids = self.cleaned_data.get("media_ids", [])
        self.instance.follower_filter = self.cleaned_data.get("follower_filter", {})
        try:
            mass.mass_message_validate(self.instance)
        except ValidationError as exc:
            self._service_errors_add(exc)

    def _service_errors_add(self, exc: ValidationError) -> None:
        """The service names model fields; show each error on the form field the operator filled in."""
        for key, errors in exc.error_dict.items():
            field = self.SERVICE_FIELDS.get(key, key)
            for error in errors:
                self.add_error(field if field in self.fields else None, error)

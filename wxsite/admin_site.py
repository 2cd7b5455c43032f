"""The back office's admin site: django-unfold's, with the models grouped by the operator's jobs.

The groups follow the WeChat web console's order of work. They are built at request time from what is
registered and what the user may see, so a model whose app is not installed yet is simply absent, and a
registered model that no group names is shown with the group of its app (``APP_GROUPS``) instead of vanishing.
"""

from dataclasses import dataclass

from django.contrib import admin
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from unfold.sites import UnfoldAdminSite

from accounts.selectors import accounts_for_user


@dataclass(frozen=True)
class Group:
    slug: str
    title: str
    icon: str
    models: tuple[str, ...]  # "app_label.model_name", in the order operators look for them


GROUPS = (
    Group(
        "accounts",
        _("Accounts and followers"),
        "groups",
        (
            "accounts.officialaccount",
            "followers.follower",
            "followers.tag",
            "followers.followeroperation",
            "followers.syncjob",
        ),
    ),
    Group(
        "messages",
        _("Messages and replies"),
        "forum",
        (
            "inbound.inboundmessage",
            "kefu.conversation",
            "autoreply.autoreplyrule",
            "kefu.kfaccount",
            "kefu.outboundmessage",
            "inbound.inboundeffectfailure",
        ),
    ),
    Group("content", _("Content and media"), "photo_library", ()),
    Group(
        "sends",
        _("Mass sends and pushes"),
        "campaign",
        (
            "mass.massmessage",
            "templatemsg.templatepush",
            "templatemsg.templatemessage",
            "templatemsg.messagetemplate",
        ),
    ),
    Group("menus", _("Menus and QR codes"), "qr_code_2", ()),
    Group("stats", _("Statistics"), "monitoring", ()),
    Group(
        "system",
        _("System"),
        "settings",
        (
            "auth.user",
            "auth.group",
            "wechat.accesstoken",
            "wechat.apicalllog",
        ),
    ),
)

# Where a registered model that no group lists goes, by app label.
APP_GROUPS = {
    "accounts": "accounts",
    "followers": "accounts",
    "inbound": "messages",
    "autoreply": "messages",
    "kefu": "messages",
    "media_assets": "content",
    "mass": "sends",
    "templatemsg": "sends",
    "menus": "menus",
    "qrcodes": "menus",
}
FALLBACK_GROUP = "system"

# Celery's schedule tables: what runs when, for every account at once. Superusers only.
SUPERUSER_APPS = {"django_celery_beat"}


def _model_key(model: dict) -> str:
    return model["model"]._meta.label_lower


class AdminSite(UnfoldAdminSite):
    site_header = "wxsite 公众号后台"
    site_title = "wxsite"
    index_title = _("Site administration")

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        if not request.user.is_superuser:
            apps = [app for app in apps if app["app_label"] not in SUPERUSER_APPS]
        if app_label is not None:
            return apps
        return self.job_groups(apps)

    def job_groups(self, apps: list[dict]) -> list[dict]:
        """The apps' models regrouped by job: each group is shaped like an app of the stock index."""
        models = {_model_key(model): model for app in apps for model in app["models"]}
        placed: dict[str, list[dict]] = {group.slug: [] for group in GROUPS}
        for group in GROUPS:
            placed[group.slug] = [models.pop(key) for key in group.models if key in models]
        for app in apps:
            for model in app["models"]:
                if _model_key(model) in models:
                    slug = APP_GROUPS.get(app["app_label"], FALLBACK_GROUP)
                    placed[slug].append(models.pop(_model_key(model)))
        grouped = []
        for group in GROUPS:
            if not placed[group.slug]:
                continue
            grouped.append(
                {
                    "name": group.title,
                    "app_label": group.slug,
                    "app_url": placed[group.slug][0]["admin_url"],
                    "has_module_perms": True,
                    "models": placed[group.slug],
                    "icon": group.icon,
                }
            )
        return grouped

    def index(self, request, extra_context=None):
        extra = {"no_account_granted": not accounts_for_user(request.user).exists()}
        return super().index(request, {**extra, **(extra_context or {})})


def sidebar_navigation(request) -> list[dict]:
    """unfold's SIDEBAR navigation: one section per job group the user can see; the dashboard under statistics."""

    visible = {group["app_label"]: group for group in admin.site.get_app_list(request)}
    navigation = []
    for group in GROUPS:
        items = [
            {"title": model["name"], "link": model["admin_url"]}
            for model in visible.get(group.slug, {}).get("models", [])
            if model["admin_url"]
        ]
        if group.slug == "stats":
            items.insert(0, {"title": _("Dashboard"), "link": reverse("admin:index")})
        if items:
            navigation.append({"title": group.title, "icon": group.icon, "items": items})
    return navigation

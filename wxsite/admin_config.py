"""django.contrib.admin with the back office's site; its own module because INSTALLED_APPS imports it before models."""

from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    default_site = "wxsite.admin_site.AdminSite"

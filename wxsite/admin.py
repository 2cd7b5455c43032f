"""Django's and Celery beat's own admin pages in the back office's theme.

Users and groups keep Django's admin behaviour with unfold's forms. Celery beat's schedule tables act on every
account at once, so they are for superusers only: hidden from everyone else's navigation and refused by URL.
"""

from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.models import Group, User
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from accounts.admin_base import ModelAdmin

admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(auth_admin.UserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm


@admin.register(Group)
class GroupAdmin(auth_admin.GroupAdmin, ModelAdmin):
    pass


class SuperuserOnly:
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_module_permission(request)


BEAT_ADMINS = {
    PeriodicTask: beat_admin.PeriodicTaskAdmin,
    ClockedSchedule: beat_admin.ClockedScheduleAdmin,
    CrontabSchedule: beat_admin.CrontabScheduleAdmin,
    SolarSchedule: beat_admin.SolarScheduleAdmin,
    IntervalSchedule: beat_admin.IntervalScheduleAdmin,
}
for model, beat_model_admin in BEAT_ADMINS.items():
    admin.site.unregister(model)
    admin.site.register(model, type(beat_model_admin.__name__, (SuperuserOnly, beat_model_admin, ModelAdmin), {}))

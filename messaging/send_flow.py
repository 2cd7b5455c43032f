"""One send flow for the admin of everything sent to many followers (mass sends, template pushes).

Saving stores a draft; nothing goes out on 保存. From the change page the operator previews the message on their
own phone, then confirms it on a page that shows the account, the message and the audience size, and chooses
"now" or a time, never one in the past.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.admin_base import wechat_error_message


class SendFlowAdminMixin:
    """Adds ``<pk>/preview/`` and ``<pk>/send/`` to a ModelAdmin whose rows have ``is_editable`` and ``account``.

    The admin names its element prefix and implements the three hooks that call its services; it also mixes in
    ``messaging.admin_forms.FollowerPickerAdminMixin``, whose picker chooses the operators' phones for a preview.
    """

    send_flow_prefix = ""  # element ids on the pages: "<prefix>-send-form", "<prefix>-audience-size", …
    send_flow_preview_template = "admin/send_flow/preview.html"
    send_flow_confirm_template = "admin/send_flow/confirm.html"
    send_flow_confirm_title = gettext_lazy("Confirm send (确认发送) %(title)s")

    def send_flow_preview(self, request, obj, openids: list[str]) -> list:
        """Send ``obj`` to these operators' OpenIDs; (openid, WeChatError or None) for each. May raise ValidationError."""
        raise NotImplementedError

    def send_flow_schedule(self, request, obj, at: datetime | None):
        """Schedule ``obj`` at ``at`` (None: now). May raise ValidationError."""
        raise NotImplementedError

    def send_flow_confirm_context(self, request, obj) -> dict:
        """What the confirmation page shows: at least ``audience_label`` and ``audience_size``."""
        raise NotImplementedError

    def send_flow_preview_context(self, request, obj) -> dict:
        """Extra context of the preview page (e.g. the message as the follower sees it)."""
        return {}

    def send_flow_urls(self):
        view = self.admin_site.admin_view
        info = f"{self.model._meta.app_label}_{self.model._meta.model_name}"
        return [
            path("<int:pk>/preview/", view(self.preview_view), name=f"{info}_preview"),
            path("<int:pk>/send/", view(self.send_view), name=f"{info}_send"),
        ]

    def response_add(self, request, obj, post_url_continue=None):
        """A plain 保存 of a new draft leads on to its preview: the next step of the flow, not the list."""
        response = super().response_add(request, obj, post_url_continue)
        if any(key in request.POST for key in ("_continue", "_addanother", "_popup", "_saveasnew")):
            return response
        opts = self.model._meta
        return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_preview", args=[obj.pk]))

    def _send_flow_object(self, request, pk):
        obj = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_view_permission(request, obj) or (
            request.method == "POST" and not super().has_change_permission(request)
        ):
            raise PermissionDenied
        return obj

    def send_flow_page_context(self, request, obj, title):
        opts = self.model._meta
        info = f"{opts.app_label}_{opts.model_name}"
        return {
            **self.admin_site.each_context(request),
            "opts": opts,
            "original": obj,
            "title": title,
            "prefix": self.send_flow_prefix,
            "change_url": reverse(f"admin:{info}_change", args=[obj.pk]) if obj else "",
            "send_url": reverse(f"admin:{info}_send", args=[obj.pk]) if obj else "",
        }

    def preview_view(self, request, pk):
        obj = self._send_flow_object(request, pk)
        # Picked followers arrive one per value; a pasted list may hold several per value.
        openids = [o for value in request.POST.getlist("openids") for o in re.split(r"[\s,;]+", value) if o]
        picker = self.follower_field(request, multiple=True, required=True, label=_("Operators' phones (followers)"))
        picker.widget.attrs["id"] = "id_openids"
        if request.method == "POST":
            try:
                results = self.send_flow_preview(request, obj, openids)
            except ValidationError as exc:
                messages.error(request, "; ".join(exc.messages))
            else:
                for openid, error in results:
                    if error is None:
                        messages.success(request, _("Preview sent to %(openid)s.") % {"openid": openid})
                    else:
                        wechat_error_message(request, error, action=openid)
        context = {
            **self.send_flow_page_context(request, obj, _("Preview (预览) %(title)s") % {"title": obj}),
            "openids_widget": picker.widget.render("openids", openids, attrs={"id": "id_openids"}),
            "media": self.media + picker.widget.media,
            **self.send_flow_preview_context(request, obj),
        }
        return TemplateResponse(request, self.send_flow_preview_template, context)

    def send_view(self, request, pk):
        obj = self._send_flow_object(request, pk)
        change_url = self.send_flow_page_context(request, obj, "")["change_url"]
        if not obj.is_editable:
            messages.error(
                request, _("This message is %(status)s and cannot be sent again.") % {"status": obj.get_status_display()}
            )
            return HttpResponseRedirect(change_url)
        error = ""
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            at = None
            if request.POST.get("when") == "later":
                try:
                    at = timezone.make_aware(datetime.fromisoformat(request.POST.get("scheduled_at", "")))
                except ValueError:
                    error = _("Enter the date and time to send at.")
                else:
                    if at <= timezone.now():
                        error = _("The time to send at is in the past.")
            if not error:
                try:
                    self.send_flow_schedule(request, obj, at)
                except ValidationError as exc:
                    error = "; ".join(exc.messages)
                else:
                    if at:
                        when = timezone.localtime(at).strftime("%Y-%m-%d %H:%M")
                        messages.success(request, _("Scheduled for %(at)s.") % {"at": when})
                    else:
                        messages.success(request, _("Sending started."))
                    return HttpResponseRedirect(change_url)
        scheduled = obj.status == "scheduled"
        default_at = timezone.localtime(obj.scheduled_at if scheduled else timezone.now() + timedelta(hours=1))
        context = {
            **self.send_flow_page_context(request, obj, str(self.send_flow_confirm_title) % {"title": obj}),
            "error": error,
            "default_at": default_at.strftime("%Y-%m-%dT%H:%M"),
            "scheduled": scheduled,
        }
        try:
            context.update(self.send_flow_confirm_context(request, obj))
        except ValidationError as exc:
            context["error"] = error or "; ".join(exc.messages)
        return TemplateResponse(request, self.send_flow_confirm_template, context)

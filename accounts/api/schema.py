"""The OpenAPI description of the REST API (drf-spectacular; served at /api/schema/, shown at /api/docs/).

Every operation states the Django permission it needs (from the view's ``required_perms``, the same table
``AccountPermission`` checks) and the errors every view shares: 401 without credentials, 403 without the permission,
404 for an account (or object) the user is not granted, 400 for a body that does not validate. A view adds what is
its own (409, 422, 502 with WeChat's errcode) in its ``extend_schema``. Nothing here changes what a view does.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

# HEAD is answered by GET (accounts.api.permissions).
_SAME_AS = {"HEAD": "GET"}


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text=_("What went wrong, in the language of Accept-Language (zh-hans by default)."))


class WeChatErrorSerializer(serializers.Serializer):
    """WeChat refused the call, or did not answer (negative errcodes: -1001 timeout, -1002 connection, -1003 bad answer)."""

    errcode = serializers.IntegerField()
    errmsg = serializers.CharField()
    meaning_zh = serializers.CharField()
    meaning_en = serializers.CharField()


VALIDATION_ERROR = {
    "type": "object",
    "description": "Field name (or non_field_errors) → messages.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}

UNAUTHENTICATED = OpenApiResponse(ErrorSerializer, description="No or invalid credentials (Token or session).")
FORBIDDEN = OpenApiResponse(ErrorSerializer, description="The user lacks the permission this operation needs.")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such account (or object) among the accounts granted to the user.")
INVALID = OpenApiResponse(VALIDATION_ERROR, description="The request does not validate.")
WECHAT_ERROR = OpenApiResponse(
    WeChatErrorSerializer, description="WeChat refused the call or did not answer; errcode and its meaning."
)
IDEMPOTENCY_CONFLICT = OpenApiResponse(
    ErrorSerializer, description="The Idempotency-Key was already used by another user or with another body."
)

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="1–255 printable ASCII characters. A retry with the same key and body gets the first answer again "
    "(header Idempotent-Replayed: true) and sends nothing; the same key with another body is 422.",
)


def required_perm(view, method: str) -> str | None:
    return (getattr(view, "required_perms", None) or {}).get(_SAME_AS.get(method, method))


class AccountAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the permission and the shared errors of every operation."""

    def get_operation_id(self):
        # A path published without its trailing slash stays callable; it gets an id (and a deprecation) of its own.
        operation_id = super().get_operation_id()
        return operation_id if self.path.endswith("/") else f"{operation_id}_without_slash"

    def is_deprecated(self):
        return super().is_deprecated() or not self.path.endswith("/")

    def get_tags(self):
        # One group per app: accounts, mass, templatemsg.
        return [type(self.view).__module__.split(".api")[0].rsplit(".", 1)[-1]]

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        # After extend_schema's overrides (which replace the getters), so every operation gets these.
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        perm = required_perm(self.view, self.method)
        if perm:
            access = _("Permission: `%(perm)s`") % {"perm": perm}
        else:
            access = _("Refused for everyone: this operation declares no permission.")
        if "{appid}" in path:
            access += _(", and the account named by `appid` granted to the user (superusers: every account).")
        operation["description"] = f"{operation.get('description', '')}\n\n{access}".strip()
        shared = {"401": UNAUTHENTICATED, "403": FORBIDDEN}
        if "{" in path:
            shared["404"] = NOT_FOUND
        if self.method in ("POST", "PUT", "PATCH"):
            shared["400"] = INVALID
        responses = operation["responses"]
        for code, response in shared.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code)
        operation["responses"] = dict(sorted(responses.items()))
        operation["x-required-permission"] = perm or ""
        return operation

"""The REST API's one exception handler: every error is JSON with a status an integrator can act on.

Messages go through gettext; the language comes from Accept-Language (LocaleMiddleware), zh-hans when absent.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler

from wechat.errors import WeChatError


def validation_detail(exc: DjangoValidationError) -> dict:
    """A Django ValidationError as DRF's field → messages shape."""
    return exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(detail=validation_detail(exc))
    elif isinstance(exc, WeChatError):
        # What WeChat answered, with its meaning for the operator; never a traceback. ``detail`` as in every other
        # error, in the caller's language.
        meaning = exc.meaning_zh if translation.get_language().startswith("zh") else exc.meaning_en
        detail = f"{_('WeChat answered')} {exc.errcode} — {meaning}"
        return Response({"detail": detail, **exc.as_dict()}, status=status.HTTP_502_BAD_GATEWAY)
    return exception_handler(exc, context)

import time
from urllib.parse import urlsplit

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from wechat import tokens
from wechat.jssdk import jssdk_nonce, jssdk_signature

from .permissions import account_for_request
from .schema import WECHAT_ERROR, ErrorSerializer


class JssdkConfigSerializer(serializers.Serializer):
    appId = serializers.CharField()
    timestamp = serializers.IntegerField()
    nonceStr = serializers.CharField()
    signature = serializers.CharField()
    jsApiList = serializers.ListField(child=serializers.CharField())


class AccessTokenSerializer(serializers.Serializer):
    appid = serializers.CharField()
    access_token = serializers.CharField()
    expires_at = serializers.DateTimeField()
    expires_in = serializers.IntegerField(help_text="seconds left")


class JssdkConfigView(APIView):
    """What a web page passes to ``wx.config``: signed with the account's central jsapi_ticket."""

    required_perms = {"GET": "accounts.view_officialaccount"}

    @extend_schema(
        summary="JS-SDK config for a page (wx.config)",
        parameters=[
            OpenApiParameter("url", OpenApiTypes.URI, required=True, description="the page's full http(s) URL"),
            OpenApiParameter("jsApiList", OpenApiTypes.STR, description="comma-separated JS-SDK API names"),
        ],
        responses={
            200: JssdkConfigSerializer,
            400: OpenApiResponse(ErrorSerializer, description="url missing, or its host is not a JS-SDK domain"),
            502: WECHAT_ERROR,
        },
    )
    def get(self, request, appid):
        account = account_for_request(request, appid)
        url = request.query_params.get("url", "").split("#", 1)[0].strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return Response({"detail": _("url must be the page's full http(s) URL.")}, status=status.HTTP_400_BAD_REQUEST)
        allowed = account.allowed_domains
        if parts.hostname.lower() not in allowed and parts.netloc.lower() not in allowed:
            detail = _(
                "%(host)s is not among this account's JS-SDK domains (%(domains)s). "
                "Add it in the WeChat console (JS接口安全域名) and to the account's JS-SDK / OAuth domains."
            ) % {"host": parts.hostname, "domains": ", ".join(allowed) or _("none set")}
            return Response({"detail": detail}, status=status.HTTP_400_BAD_REQUEST)
        ticket = tokens.jsapi_ticket_get(account=account)
        timestamp, nonce = int(time.time()), jssdk_nonce()
        js_api_list = [name for name in request.query_params.get("jsApiList", "").split(",") if name.strip()]
        return Response(
            {
                "appId": account.appid,
                "timestamp": timestamp,
                "nonceStr": nonce,
                "signature": jssdk_signature(ticket=ticket, noncestr=nonce, timestamp=timestamp, url=url),
                "jsApiList": [name.strip() for name in js_api_list],
            }
        )


class AccessTokenView(APIView):
    """The account's current access_token, so other services share the one central token."""

    required_perms = {"GET": "accounts.borrow_access_token"}

    @extend_schema(
        operation_id="access_token",
        summary="The account's current access_token",
        responses={200: AccessTokenSerializer, 502: WECHAT_ERROR},
    )
    def get(self, request, appid):
        account = account_for_request(request, appid)
        row = tokens.access_token_info(account=account)
        return Response(
            {
                "appid": account.appid,
                "access_token": row.value,
                "expires_at": row.expires_at,
                "expires_in": int((row.expires_at - timezone.now()).total_seconds()),
            }
        )

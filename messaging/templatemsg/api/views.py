"""REST: send a template message and read its status (POST/GET /api/v1/accounts/<appid>/template-messages/)."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import account_for_request
from accounts.api.schema import IDEMPOTENCY_CONFLICT, IDEMPOTENCY_KEY
from messaging.mass.api.idempotency import idempotent_post

from .. import services
from ..models import MessageTemplate, TemplateMessage
from .serializers import TemplateMessageCreateSerializer, TemplateMessageSerializer


class TemplateMessageListView(APIView):
    required_perms = {"POST": "templatemsg.add_templatemessage"}

    @extend_schema(
        operation_id="template_messages_create",
        summary="Send a template message",
        description="WeChat's message/template/send body; client_msg_id makes a repeat return the first message.",
        parameters=[IDEMPOTENCY_KEY],
        request=TemplateMessageCreateSerializer,
        responses={
            201: TemplateMessageSerializer,
            200: OpenApiResponse(TemplateMessageSerializer, description="A message with this client_msg_id exists."),
            422: IDEMPOTENCY_CONFLICT,
        },
    )
    def post(self, request, appid):
        account = account_for_request(request, appid)
        return idempotent_post(
            request, account=account, endpoint="template-messages", create=lambda: self._create(request, account)
        )

    def _create(self, request, account):
        serializer = TemplateMessageCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        body = serializer.validated_data
        template = MessageTemplate.objects.filter(account=account, template_id=body["template_id"]).first()
        if template is None:
            return Response(
                {"template_id": [_("Unknown template for this account; pull the account's templates first.")]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        miniprogram = body.get("miniprogram") or {}
        message, created = services.template_message_create(
            account=account,
            openid=body["touser"],
            template=template,
            data=body["data"],
            url=body["url"],
            miniprogram_appid=miniprogram.get("appid", ""),
            miniprogram_pagepath=miniprogram.get("pagepath", ""),
            client_msg_id=body["client_msg_id"],
        )
        return Response(
            TemplateMessageSerializer(message).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class TemplateMessageDetailView(APIView):
    required_perms = {"GET": "templatemsg.view_templatemessage"}

    @extend_schema(
        operation_id="template_message_retrieve",
        summary="One template message and its status",
        responses={200: TemplateMessageSerializer},
    )
    def get(self, request, appid, pk):
        account = account_for_request(request, appid)
        message = get_object_or_404(TemplateMessage, account=account, pk=pk)
        return Response(TemplateMessageSerializer(message).data)

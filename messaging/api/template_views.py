"""REST: send a template message and read its status (POST/GET /api/v1/accounts/<appid>/template-messages/)."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from rest_framework import permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import account_for_request

from ..models import MessageTemplate, TemplateMessage
from ..template_messages import services
from .template_serializers import TemplateMessageCreateSerializer, TemplateMessageSerializer


class TemplateMessagePermission(permissions.BasePermission):
    message = "This user is not granted the permission to send (or view) template messages."

    def has_permission(self, request, view):
        user = request.user
        if request.method == "POST":
            return user.has_perm("messaging.add_templatemessage")
        return user.has_perm("messaging.view_templatemessage") or user.has_perm("messaging.add_templatemessage")


class TemplateMessageListView(APIView):
    permission_classes = [permissions.IsAuthenticated, TemplateMessagePermission]

    def post(self, request, appid):
        account = account_for_request(request, appid)
        serializer = TemplateMessageCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        body = serializer.validated_data
        template = MessageTemplate.objects.filter(account=account, template_id=body["template_id"]).first()
        if template is None:
            return Response(
                {"template_id": ["Unknown template for this account; pull the account's templates first."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        miniprogram = body.get("miniprogram") or {}
        try:
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
        except ValidationError as exc:
            detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
            return Response(detail, status=status.HTTP_400_BAD_REQUEST)
        return Response(
            TemplateMessageSerializer(message).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class TemplateMessageDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated, TemplateMessagePermission]

    def get(self, request, appid, pk):
        account = account_for_request(request, appid)
        message = get_object_or_404(TemplateMessage, account=account, pk=pk)
        return Response(TemplateMessageSerializer(message).data)

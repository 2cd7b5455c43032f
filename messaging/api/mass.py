"""REST: create, schedule, list, inspect and cancel mass sends (群发) of one account."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import account_for_request
from accounts.models import Tag

from .. import mass
from ..models import MassBatch, MassMessage


class MassCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=120)
    msgtype = serializers.ChoiceField(choices=MassMessage.MsgType.choices)
    content = serializers.CharField(required=False, allow_blank=True, default="")
    media_id = serializers.CharField(required=False, allow_blank=True, default="", max_length=128)
    media_ids = serializers.ListField(child=serializers.CharField(max_length=128), required=False, default=list)
    recommend = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    need_open_comment = serializers.BooleanField(required=False, default=False)
    only_fans_can_comment = serializers.BooleanField(required=False, default=False)
    video_title = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    video_description = serializers.CharField(required=False, allow_blank=True, default="", max_length=120)
    card_id = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    send_ignore_reprint = serializers.BooleanField(required=False, default=False)
    audience = serializers.ChoiceField(choices=MassMessage.Audience.choices)
    tag_id = serializers.IntegerField(required=False, allow_null=True, help_text="WeChat tag id (audience=tag)")
    openids = serializers.ListField(child=serializers.CharField(max_length=64), required=False, default=list)
    follower_filter = serializers.DictField(required=False, default=dict)
    scheduled_at = serializers.DateTimeField(required=False, allow_null=True, help_text="omit to send now")

    def validate_scheduled_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("scheduled_at is in the past; omit it to send now.")
        return value


class MassBatchSerializer(serializers.ModelSerializer):
    error = serializers.CharField(source="error_display", read_only=True)

    class Meta:
        model = MassBatch
        fields = [
            "index",
            "clientmsgid",
            "recipients",
            "status",
            "attempts",
            "msg_id",
            "msg_data_id",
            "errcode",
            "error",
            "job_status",
            "total_count",
            "filter_count",
            "sent_count",
            "error_count",
            "check_state",
            "article_urls",
            "submitted_at",
            "finished_at",
        ]


class MassMessageSerializer(serializers.ModelSerializer):
    tag_id = serializers.IntegerField(source="tag.wechat_id", read_only=True, default=None)
    openid_count = serializers.SerializerMethodField()
    totals = serializers.SerializerMethodField()
    batches = MassBatchSerializer(many=True, read_only=True)

    class Meta:
        model = MassMessage
        fields = [
            "id",
            "title",
            "msgtype",
            "content",
            "media_id",
            "media_ids",
            "card_id",
            "send_ignore_reprint",
            "audience",
            "tag_id",
            "openid_count",
            "follower_filter",
            "status",
            "scheduled_at",
            "started_at",
            "finished_at",
            "errcode",
            "last_error",
            "totals",
            "batches",
            "created_at",
        ]

    def get_openid_count(self, obj):
        return len(obj.openids or [])

    def get_totals(self, obj):
        return mass.mass_message_totals(obj)


def _errors(exc: DjangoValidationError) -> dict:
    return exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}


class MassMessageListView(APIView):
    """GET: the account's mass sends, newest first. POST: create one and send it now or at ``scheduled_at``."""

    def get(self, request, appid):
        account = account_for_request(request, appid)
        qs = MassMessage.objects.filter(account=account).prefetch_related("batches").select_related("tag")
        if request.query_params.get("status"):
            qs = qs.filter(status=request.query_params["status"])
        return Response(MassMessageSerializer(qs[:100], many=True).data)

    def post(self, request, appid):
        account = account_for_request(request, appid)
        serializer = MassCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        at = data.pop("scheduled_at", None)
        tag_id = data.pop("tag_id", None)
        if data["audience"] == MassMessage.Audience.TAG:
            tag = Tag.objects.filter(account=account, wechat_id=tag_id).first() if tag_id is not None else None
            if tag is None:
                return Response(
                    {"tag_id": ["No tag with this WeChat tag id on this account."]}, status=status.HTTP_400_BAD_REQUEST
                )
            data["tag"] = tag
        try:
            with transaction.atomic():
                message = mass.mass_message_create(account=account, actor=request.user, **data)
                message = mass.mass_message_schedule(message=message, at=at, actor=request.user)
        except DjangoValidationError as exc:
            return Response(_errors(exc), status=status.HTTP_400_BAD_REQUEST)
        message.refresh_from_db()
        return Response(MassMessageSerializer(message).data, status=status.HTTP_201_CREATED)


class MassMessageDetailView(APIView):
    def get(self, request, appid, pk):
        account = account_for_request(request, appid)
        message = get_object_or_404(MassMessage, account=account, pk=pk)
        return Response(MassMessageSerializer(message).data)


class MassMessageCancelView(APIView):
    def post(self, request, appid, pk):
        account = account_for_request(request, appid)
        message = get_object_or_404(MassMessage, account=account, pk=pk)
        try:
            message = mass.mass_message_cancel(message=message, actor=request.user, reason=str(request.data.get("reason", "")))
        except DjangoValidationError as exc:
            return Response(_errors(exc), status=status.HTTP_409_CONFLICT)
        return Response(MassMessageSerializer(message).data)

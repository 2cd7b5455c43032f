"""REST: create, schedule, list, inspect and cancel mass sends (群发) of one account."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.errors import validation_detail
from accounts.api.permissions import account_for_request
from accounts.api.schema import IDEMPOTENCY_CONFLICT, IDEMPOTENCY_KEY, VALIDATION_ERROR
from followers.models import Tag
from messaging.mass import selectors as mass_selectors
from messaging.mass import services as mass

from ..models import MassBatch, MassMessage
from .idempotency import idempotent_post


class FollowerFilterSerializer(serializers.Serializer):
    """audience=filter: which followers, by the keys ``mass.FILTER_KEYS``; each of the right type."""

    tag = serializers.IntegerField(required=False, min_value=1, help_text="id of the account's tag in this back office")
    subscribe_scene = serializers.CharField(required=False, max_length=64, help_text="e.g. ADD_SCENE_QR_CODE")
    subscribed_after = serializers.DateField(required=False)
    subscribed_before = serializers.DateField(required=False)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    gettext_lazy("Unknown filter keys: %(keys)s") % {"keys": ", ".join(map(str, unknown))}
                )
        value = super().to_internal_value(data)
        # Stored as JSON: dates as ISO strings, as the admin stores them.
        return {key: v.isoformat() if hasattr(v, "isoformat") else v for key, v in value.items()}


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
    follower_filter = FollowerFilterSerializer(required=False, default=dict)
    scheduled_at = serializers.DateTimeField(required=False, allow_null=True, help_text="omit to send now")

    def validate_scheduled_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError(_("scheduled_at is in the past; omit it to send now."))
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

    def get_openid_count(self, obj) -> int:
        return len(obj.openids or [])

    def get_totals(self, obj) -> dict:
        return mass_selectors.mass_message_totals(obj)


class MassMessageListView(APIView):
    """GET: the account's mass sends, newest first. POST: create one and send it now or at ``scheduled_at``."""

    required_perms = {"GET": "mass.view_massmessage", "POST": "mass.add_massmessage"}

    @extend_schema(
        operation_id="mass_messages_list",
        summary="The account's mass sends, newest first (at most 100)",
        parameters=[OpenApiParameter("status", enum=MassMessage.Status.values, description="only sends in this state")],
        responses={200: MassMessageSerializer(many=True)},
    )
    def get(self, request, appid):
        account = account_for_request(request, appid)
        qs = MassMessage.objects.filter(account=account).prefetch_related("batches").select_related("tag")
        if request.query_params.get("status"):
            qs = qs.filter(status=request.query_params["status"])
        return Response(MassMessageSerializer(qs[:100], many=True).data)

    @extend_schema(
        operation_id="mass_messages_create",
        summary="Create a mass send, sent now or at scheduled_at",
        parameters=[IDEMPOTENCY_KEY],
        request=MassCreateSerializer,
        responses={201: MassMessageSerializer, 422: IDEMPOTENCY_CONFLICT},
    )
    def post(self, request, appid):
        account = account_for_request(request, appid)
        return idempotent_post(request, account=account, endpoint="mass-messages", create=lambda: self._create(request, account))

    def _create(self, request, account):
        serializer = MassCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        at = data.pop("scheduled_at", None)
        tag_id = data.pop("tag_id", None)
        if data["audience"] == MassMessage.Audience.TAG:
            tag = Tag.objects.filter(account=account, wechat_id=tag_id).first() if tag_id is not None else None
            if tag is None:
                return Response(
                    {"tag_id": [_("No tag with this WeChat tag id on this account.")]}, status=status.HTTP_400_BAD_REQUEST
                )
            data["tag"] = tag
        # Created and scheduled together; a "send now" is enqueued after commit, and a broker outage there
        # leaves it due for beat instead of failing this request (messaging.enqueue).
        with transaction.atomic():
            message = mass.mass_message_create(account=account, actor=request.user, **data)
            message = mass.mass_message_schedule(message=message, at=at, actor=request.user)
        message.refresh_from_db()
        return Response(MassMessageSerializer(message).data, status=status.HTTP_201_CREATED)


class MassMessageDetailView(APIView):
    required_perms = {"GET": "mass.view_massmessage"}

    @extend_schema(
        operation_id="mass_message_retrieve", summary="One mass send with its batches", responses={200: MassMessageSerializer}
    )
    def get(self, request, appid, pk):
        account = account_for_request(request, appid)
        message = get_object_or_404(MassMessage, account=account, pk=pk)
        return Response(MassMessageSerializer(message).data)


class MassMessageCancelView(APIView):
    required_perms = {"POST": "mass.change_massmessage"}

    @extend_schema(
        operation_id="mass_message_cancel",
        summary="Cancel a mass send that has not started",
        request=inline_serializer("MassCancel", {"reason": serializers.CharField(required=False, allow_blank=True)}),
        responses={
            200: MassMessageSerializer,
            409: OpenApiResponse(VALIDATION_ERROR, description="The send has started or ended and cannot be cancelled."),
        },
    )
    def post(self, request, appid, pk):
        account = account_for_request(request, appid)
        message = get_object_or_404(MassMessage, account=account, pk=pk)
        reason = str(request.data.get("reason", "")) if isinstance(request.data, dict) else ""
        try:
            message = mass.mass_message_cancel(message=message, actor=request.user, reason=reason)
        except DjangoValidationError as exc:
            return Response(validation_detail(exc), status=status.HTTP_409_CONFLICT)
        return Response(MassMessageSerializer(message).data)

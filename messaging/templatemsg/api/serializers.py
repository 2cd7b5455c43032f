from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import TemplateMessage


class MiniprogramSerializer(serializers.Serializer):
    appid = serializers.CharField(max_length=64)
    pagepath = serializers.CharField(max_length=512, required=False, allow_blank=True, default="")


class TemplateMessageCreateSerializer(serializers.Serializer):
    """WeChat's message/template/send body, with client_msg_id as the idempotence key."""

    touser = serializers.CharField(max_length=64)
    template_id = serializers.CharField(max_length=64)
    data = serializers.JSONField()
    url = serializers.CharField(max_length=1024, required=False, allow_blank=True, default="")
    miniprogram = MiniprogramSerializer(required=False)
    client_msg_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class TemplateMessageSerializer(serializers.ModelSerializer):
    touser = serializers.CharField(source="openid")
    template_id = serializers.CharField(source="wechat_template_id")
    miniprogram = serializers.SerializerMethodField()
    push_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = TemplateMessage
        fields = [
            "id",
            "touser",
            "template_id",
            "data",
            "url",
            "miniprogram",
            "client_msg_id",
            "status",
            "msgid",
            "errcode",
            "error",
            "push_id",
            "created_at",
            "sent_at",
            "finished_at",
        ]

    @extend_schema_field(MiniprogramSerializer(allow_null=True))
    def get_miniprogram(self, obj):
        if not obj.miniprogram_appid:
            return None
        return {"appid": obj.miniprogram_appid, "pagepath": obj.miniprogram_pagepath}

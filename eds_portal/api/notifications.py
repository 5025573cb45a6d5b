"""The caller's own notifications over the API: list them, mark them read."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from eds_portal import notifications
from eds_portal.api.schema import StrictInput
from eds_portal.authz import Permission
from eds_portal.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Absolute link to the page concerned.")
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "subject", "body", "url", "created_at", "read", "read_at"]

    def get_url(self, notification: Notification) -> str | None:
        link = notifications.safe_link(notification)
        request = self.context.get("request")
        return request.build_absolute_uri(link) if link and request else None

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class MarkReadSerializer(StrictInput):
    ids = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        max_length=1000,
        help_text="The notifications to mark read; all of the caller's unread ones if omitted.",
    )


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(
        help_text="How many notifications were unread and now are read."
    )


class NotificationList(ListAPIView):
    """The caller's notifications, newest first; nobody reads anyone else's."""

    required_permission = Permission.USE_API
    serializer_class = NotificationSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        queryset = notifications.of(self.request.user)
        if self.request.query_params.get("unread") in {"1", "true", "yes"}:
            queryset = queryset.filter(read_at__isnull=True)
        return queryset

    @extend_schema(
        summary="My notifications, newest first",
        parameters=[
            OpenApiParameter(
                "unread", bool, OpenApiParameter.QUERY, description="Only the unread ones."
            )
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class NotificationsMarkRead(APIView):
    required_permission = Permission.USE_API

    @extend_schema(
        summary="Mark my notifications read (some, or all of them)",
        request=MarkReadSerializer,
        responses={200: MarkedSerializer},
    )
    def post(self, request):
        body = MarkReadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        marked = notifications.mark_read(request.user, body.validated_data.get("ids"))
        return Response(MarkedSerializer({"marked": marked}).data)

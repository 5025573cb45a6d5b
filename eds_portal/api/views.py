"""Read-only API of the foundation: who am I, and the audit trail for inspections."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from eds_portal.audit import record_event
from eds_portal.authz import Permission, roles_of
from eds_portal.models import AuditEvent
from eds_portal.selectors import AuditFilters, audit_events


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    full_name = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    two_factor_verified = serializers.BooleanField()


class MeView(APIView):
    required_permission = Permission.USE_API

    @extend_schema(responses=MeSerializer, summary="The signed-in account and its roles")
    def get(self, request):
        user = request.user
        data = {
            "id": user.pk,
            "email": user.email,
            "full_name": user.full_name,
            "roles": sorted(role.value for role in roles_of(user)),
            "two_factor_verified": user.is_verified(),
        }
        return Response(MeSerializer(data).data)


class AuditEventSerializer(serializers.ModelSerializer):
    actor_email = serializers.EmailField(
        source="actor.email", default=None, read_only=True, allow_null=True
    )

    class Meta:
        model = AuditEvent
        fields = [
            "seq",
            "occurred_at",
            "actor",
            "actor_email",
            "action",
            "target_type",
            "target_id",
            "before",
            "after",
            "ip",
            "client_hash",
            "prev_hash",
            "hash",
        ]


class AuditFilterSerializer(serializers.Serializer):
    action = serializers.CharField(required=False, allow_blank=True, max_length=80)
    actor = serializers.EmailField(required=False, allow_blank=True)
    target_type = serializers.CharField(required=False, allow_blank=True, max_length=80)
    target_id = serializers.CharField(required=False, allow_blank=True, max_length=120)
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)


class AuditEventList(ListAPIView):
    """The audit trail, newest first, with the same filters as the DPO's page."""

    required_permission = Permission.VIEW_AUDIT_TRAIL
    serializer_class = AuditEventSerializer

    @extend_schema(parameters=[AuditFilterSerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            # drf-spectacular builds the schema through here: nobody read the trail.
            return AuditEvent.objects.none()
        params = AuditFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        filters = AuditFilters(
            **{
                key: value
                for key, value in params.validated_data.items()
                if value not in ("", None)
            }
        )
        record_event(
            action="audit.viewed",
            actor=self.request.user,
            after={"filters": filters.as_dict(), "via": "api"},
        )
        return audit_events(filters)

"""Read-only catalogue and feasibility counts over the API."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from eds_portal.audit import record_event
from eds_portal.authz import Permission
from eds_portal.forms import has_unstorable_text, querydict_from
from warehouse import catalogue
from warehouse.cohort import CohortCriteriaForm, Refusal, feasibility_count
from warehouse.count_guard import seconds_until_tomorrow
from warehouse.selectors import fill_rates


class VariableSerializer(serializers.Serializer):
    code = serializers.CharField()
    table = serializers.CharField()
    column = serializers.CharField()
    label_fr = serializers.CharField()
    label_en = serializers.CharField()
    description_fr = serializers.CharField()
    description_en = serializers.CharField()
    sensitivity = serializers.CharField()
    generalisations = serializers.ListField(child=serializers.CharField())
    default = serializers.CharField()
    exportable = serializers.BooleanField()
    # A field named like DRF's Field.source (the declared fields replace it on the class).
    source = serializers.CharField()  # type: ignore[assignment]
    fill_rate = serializers.FloatField(allow_null=True)


class CatalogueList(APIView):
    required_permission = Permission.VIEW_CATALOGUE

    @extend_schema(
        responses=VariableSerializer(many=True),
        summary="Every variable of the warehouse, with its fill rate",
    )
    def get(self, request):
        rates = fill_rates().rates
        data = [
            {
                "code": v.code,
                "table": v.table,
                "column": v.column,
                "label_fr": v.label_fr,
                "label_en": v.label_en,
                "description_fr": v.description_fr,
                "description_en": v.description_en,
                "sensitivity": v.sensitivity.value,
                "generalisations": [g.value for g in v.generalisations],
                "default": v.default.value,
                "exportable": v.exportable,
                "source": v.source,
                "fill_rate": rates.get(v.code),
            }
            for v in catalogue.VARIABLES
        ]
        return Response(VariableSerializer(data, many=True).data)


class CriteriaSerializer(serializers.Serializer):
    """The cohort criteria grammar (documentation of the request body)."""

    period_start = serializers.DateField(required=False)
    period_end = serializers.DateField(required=False)
    age_min = serializers.IntegerField(required=False, min_value=0)
    age_max = serializers.IntegerField(required=False, min_value=0)
    sex = serializers.ChoiceField(choices=["", "M", "F"], required=False)
    icpc2_codes = serializers.CharField(required=False, help_text="Comma-separated prefixes")
    icd10_codes = serializers.CharField(required=False, help_text="Comma-separated prefixes")
    visit_kinds = serializers.ListField(child=serializers.CharField(), required=False)
    departements = serializers.ListField(child=serializers.CharField(), required=False)
    associations = serializers.ListField(child=serializers.IntegerField(), required=False)


class CountSerializer(serializers.Serializer):
    persons = serializers.CharField(help_text="“0”, “< 11”, or the perturbed, rounded count")
    visits = serializers.CharField(help_text="Episodes, shown like persons")
    threshold = serializers.IntegerField()
    masked = serializers.BooleanField()
    rounding = serializers.IntegerField(help_text="Shown counts are multiples of this base")
    repeated = serializers.BooleanField(
        help_text="The same criteria were counted recently: the earlier answer is given back"
    )


class RefusalSerializer(serializers.Serializer):
    detail = serializers.CharField()
    refused = serializers.ChoiceField(choices=Refusal.choices)


class FeasibilityCountView(APIView):
    required_permission = Permission.RUN_FEASIBILITY_COUNT

    @extend_schema(
        request=CriteriaSerializer,
        responses={
            200: CountSerializer,
            409: RefusalSerializer,
            429: RefusalSerializer,
        },
        summary="Persons and episodes matching cohort criteria, small counts masked",
        description=(
            "Counts are perturbed and rounded; 1 to threshold - 1 is masked. 409: the count is "
            "too close to a count already given (to anyone) and is not shown. 429: the user's "
            "daily budget of counts is used up (Retry-After: seconds until midnight)."
        ),
    )
    def post(self, request):
        # The same form as the page validates the body: one grammar, one set of messages.
        if not isinstance(request.data, dict):
            raise ValidationError({"errors": "The body must be a JSON object of criteria."})
        if has_unstorable_text(request.data):
            raise ValidationError(
                {"errors": _("The criteria hold a NUL byte or an invalid character.")}
            )
        form = CohortCriteriaForm(querydict_from(request.data))
        if not form.is_valid():
            return Response({"errors": form.errors.get_json_data()}, status=400)
        criteria = form.criteria()
        result = feasibility_count(criteria, by=request.user, via="api")
        record_event(
            action="feasibility.counted",
            actor=request.user,
            target_type="warehouse.cohort",
            after={"criteria": criteria.as_dict(), **result.as_dict(), "via": "api"},
        )
        if result.refused == Refusal.BUDGET:
            return Response(
                {"detail": result.message, "refused": result.refused},
                status=429,
                headers={"Retry-After": str(seconds_until_tomorrow())},
            )
        if result.refused:
            return Response({"detail": result.message, "refused": result.refused}, status=409)
        return Response(CountSerializer(result.as_dict()).data)

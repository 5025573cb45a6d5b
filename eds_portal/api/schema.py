"""The API's schema says every status it answers and that request bodies are closed.

``AutoSchema`` (settings ``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``) adds to each operation the
errors that any view may answer and that the view did not document itself: 400 (a hostile
address or body, invalid parameters), 403 (no account, no role, no second factor), 404 (an
object the caller may not know exists), and on writes 409 (a refused step,
``eds_portal.api.exceptions``). ``close_request_bodies`` (a post-processing hook) marks the
components that are request bodies ``additionalProperties: false``, as ``StrictInput`` refuses
unknown fields.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers

from eds_portal.hostile_input import INT64_MAX

# Validation errors are an object of field names to messages; the others carry "detail".
ERROR_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
REFUSAL_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "reasons": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": True,
}

_DEFAULT_ERRORS = {
    "400": ("The request is malformed or invalid.", ERROR_BODY),
    "403": ("Not signed in, no permission, or the second factor is missing.", ERROR_BODY),
    "404": ("Unknown, or not visible to the caller.", ERROR_BODY),
}
_WRITE_ERRORS = {"409": ("The step is refused now; the reasons say why.", REFUSAL_BODY)}
_THROTTLED = {"429": ("Too many requests; try again later.", ERROR_BODY)}


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        defaults = dict(_DEFAULT_ERRORS)
        if self.method in {"POST", "PUT", "PATCH", "DELETE"}:
            defaults.update(_WRITE_ERRORS)
        if getattr(self.view, "throttle_classes", None):
            defaults.update(_THROTTLED)
        for code, (description, body) in defaults.items():
            if code not in responses:
                responses[code] = {
                    "content": {"application/json": {"schema": dict(body)}},
                    "description": description,
                }
        return responses


# What eds_portal.hostile_input refuses, as ECMA-262 patterns: no control character in a
# parameter; tab, line feed and carriage return allowed in a body's text.
PARAMETER_TEXT = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"
BODY_TEXT = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"


def _constrain_text(schema: Any, pattern: str) -> None:
    if isinstance(schema, list):
        for item in schema:
            _constrain_text(item, pattern)
        return
    if not isinstance(schema, dict):
        return
    if (
        schema.get("type") == "string"
        and not {"format", "enum", "pattern", "const"} & schema.keys()
        and not schema.get("readOnly")
    ):
        schema["pattern"] = pattern
    for key, value in schema.items():
        if key not in {"example", "examples", "default", "enum"}:
            _constrain_text(value, pattern)


def close_request_bodies(result, generator, request, public):
    """Request body components allow no property but theirs (``StrictInput`` refuses others),
    and text holds no control character (``RefuseHostileInputMiddleware`` refuses it)."""
    components = result.get("components", {}).get("schemas", {})
    _constrain_text(components, BODY_TEXT)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict):
                _constrain_text(operation.get("parameters", []), PARAMETER_TEXT)
                for parameter in operation.get("parameters", []):
                    schema = parameter.get("schema", {})
                    if parameter.get("in") == "path" and schema.get("type") == "integer":
                        # A number beyond 64 bits names nothing: refused by the middleware.
                        schema.setdefault("maximum", INT64_MAX)
                _constrain_text(operation.get("requestBody", {}), BODY_TEXT)
    prefix = "#/components/schemas/"
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            content = operation.get("requestBody", {}).get("content", {})
            for media in content.values():
                ref = media.get("schema", {}).get("$ref", "")
                component = components.get(ref.removeprefix(prefix)) if ref else None
                if component is not None and component.get("type") == "object":
                    component["additionalProperties"] = False
    return result


class StrictInput(serializers.Serializer):
    """A request body serializer that refuses fields it does not know (DRF ignores them)."""

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            unknown = sorted(
                str(name)
                for name in data
                if name not in self.fields and name != "csrfmiddlewaretoken"
            )
            if unknown:
                message = _("This field is not accepted here.")
                raise serializers.ValidationError({name: [message] for name in unknown})
        return super().to_internal_value(data)

"""The API's JSON parser: a body holding a NUL byte, a control character or a lone surrogate
(``"\\u0000"``, ``"\\ud800"``) is refused with a 400 before any view sees it."""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from eds_portal.hostile_input import HOSTILE_TEXT_MESSAGE, has_hostile_text


class StrictTextJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if has_hostile_text(data):
            raise ParseError(HOSTILE_TEXT_MESSAGE)
        return data

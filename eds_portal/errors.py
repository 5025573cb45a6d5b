"""The one refusal: every "this step is not possible now" of the apps derives from ``Refused``.

A refusal carries every reason (``reasons``, for a page to list them all); ``str()`` joins them.
An API view may let it escape: the exception handler (``eds_portal.api.exceptions``) answers
409 with ``{"detail": ..., "reasons": [...]}``; ``detail`` is the endpoint's sentence, given
when raising (``Refused(reasons, detail=...)``) or attached by ``refusal_detail``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

from django.utils.functional import Promise


class Refused(Exception):
    """The step is refused; ``reasons`` says every why, ``detail`` the API's sentence."""

    def __init__(self, reasons: Iterable[Any] | str = (), *, detail: Any = None) -> None:
        if isinstance(reasons, str | Promise) or not isinstance(reasons, Iterable):
            # A single message (``RefusedAction("...")``); lazy translations are not iterated.
            reasons = [reasons]
        self.reasons = list(reasons)
        self.detail = detail
        super().__init__("; ".join(str(reason) for reason in self.reasons))


@contextlib.contextmanager
def refusal_detail(detail: Any) -> Iterator[None]:
    """Attaches the endpoint's sentence to a refusal that passes through, then lets it go on."""
    try:
        yield
    except Refused as refused:
        refused.detail = detail
        raise

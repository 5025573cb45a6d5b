"""The language switch: Django's, and a signed-in user's choice kept for their notifications."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.i18n import set_language as django_set_language

from eds_portal.actions import set_preferred_language


def set_language(request: HttpRequest) -> HttpResponse:
    """Anyone may switch (public); an account also remembers it: e-mails follow the reader."""
    response = django_set_language(request)
    code = request.POST.get("language", "") if request.method == "POST" else ""
    user = getattr(request, "user", None)
    if code in dict(settings.LANGUAGES) and user is not None and user.is_authenticated:
        set_preferred_language(user=user, language=code)
    return response

"""The server error page: in the portal's language and look, safe to render after any failure."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponseServerError, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.csrf import requires_csrf_token

logger = logging.getLogger(__name__)

# If even the template fails (a broken template, a missing static manifest), plain text.
FALLBACK = (
    "<!DOCTYPE html><html lang='fr'><title>Erreur du serveur</title>"
    "<h1>Erreur du serveur</h1><p>Le portail n'a pas pu répondre. Réessayez dans quelques "
    "minutes.</p></html>"
)


@requires_csrf_token
def server_error(request: HttpRequest, template_name: str = "500.html"):
    """Like Django's: the template gets no request context (the failure may be in the context
    processors, the session or the database), only the portal's name."""
    try:
        # In the language of the request if the locale middleware ran, else the portal's.
        body = loader.get_template(template_name).render({"portal_name": settings.EDS_PORTAL_NAME})
    except Exception:
        logger.exception("the 500 page could not be rendered")
        body = FALLBACK
    return HttpResponseServerError(body)


def page_not_found(request: HttpRequest, exception: Exception | None = None):
    """Django's 404 page, but JSON on the API: a script reading /api/ never gets HTML."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)

"""URLs of the access app: registers, transparency portal, formalities, provisioning."""

from django.urls import include, path

urlpatterns: list = [
    # Transparency portal, formalities and gates, consent register (issue 6, part 2).
    path("", include("access.transparency.urls")),
    path("", include("access.formalities.urls")),
    path("", include("access.consent.urls")),
    # Opposition register (issue 6, part 1).
    path("", include("access.opposition_urls")),
    # Provisioning runs, delivery and destruction (issue 7).
    path("", include("access.provisioning.urls")),
]

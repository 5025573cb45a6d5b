"""URLs of the access app: registers, transparency portal, formalities, provisioning."""

from django.urls import include, path

urlpatterns: list = [
    # Transparency portal, formalities and gates, consent register.
    path("", include("access.transparency.urls")),
    path("", include("access.formalities.urls")),
    path("", include("access.consent.urls")),
    # Opposition register.
    path("", include("access.opposition.urls")),
    # Provisioning runs, delivery and destruction.
    path("", include("access.provisioning.urls")),
    # Output requests, their checking and release.
    path("", include("access.outputs.urls")),
]

"""URLs of the access app: registers, transparency portal, formalities, provisioning."""

from django.urls import path  # noqa: F401

urlpatterns: list = []

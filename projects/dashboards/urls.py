"""URLs of this package (mounted at the site root: paths here are complete)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []

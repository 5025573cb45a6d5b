from django.urls import path

from warehouse.views import CatalogueView, FeasibilityView

urlpatterns = [
    path("catalogue/", CatalogueView.as_view(), name="catalogue"),
    path("feasibility/", FeasibilityView.as_view(), name="feasibility"),
]

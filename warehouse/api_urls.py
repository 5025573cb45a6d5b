from django.urls import path

from warehouse.api import CatalogueList, FeasibilityCountView

urlpatterns = [
    path("catalogue/", CatalogueList.as_view(), name="api_catalogue"),
    path("feasibility/", FeasibilityCountView.as_view(), name="api_feasibility"),
]

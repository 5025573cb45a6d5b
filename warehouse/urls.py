from django.urls import path

from warehouse.views import CatalogueView, FeasibilityLogView, FeasibilityView

urlpatterns = [
    path("catalogue/", CatalogueView.as_view(), name="catalogue"),
    path("feasibility/", FeasibilityView.as_view(), name="feasibility"),
    path("feasibility/log/", FeasibilityLogView.as_view(), name="feasibility_log"),
]

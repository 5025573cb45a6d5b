"""The portal's URLs and one that fails, for the server error page's tests."""

from django.urls import path

from eds_portal.urls import urlpatterns as portal_urlpatterns


def boom(request):
    raise RuntimeError("a failure in a view")


urlpatterns = [path("boom/", boom, name="test_boom"), *portal_urlpatterns]
handler500 = "eds_portal.views.errors.server_error"

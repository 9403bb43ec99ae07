from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

api_v1 = [
    path("", include("apps.organizations.urls")),
    path("", include("apps.chargepoints.urls")),
    path("", include("apps.ocpp.urls")),
    path("", include("apps.transactions.urls")),
    path("", include("apps.authlists.urls")),
    path("", include("apps.billing.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("", include("apps.operations.urls")),
]

"""URL map: pages, allauth (browser and headless), the versioned API and its schema."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from accounts.api import urls as accounts_api
from billing.api import urls as billing_api
from delivery.api import urls as delivery_api
from integrations.api import urls as integrations_api
from photolisting.api import api_not_found
from processing.api import urls as processing_api
from projects.api import urls as projects_api

# Tried in order: the routes apps poll most (jobs, photos) first; the apps' first path segments
# are disjoint, so the order changes nothing but the time to resolve. Spliced rather than included
# (no prefix, no namespace): one resolver level less on every API call.
api_v1 = [
    *processing_api.urlpatterns,
    *projects_api.urlpatterns,
    *accounts_api.urlpatterns,
    *billing_api.urlpatterns,
    *integrations_api.urlpatterns,
    *delivery_api.urlpatterns,
    # A prefix match: a path with an encoded newline (%0A) is still an API path, answered in JSON.
    re_path(r"^", api_not_found),
]

handler400 = "photolisting.api.bad_request"
handler404 = "photolisting.api.not_found"
handler500 = "photolisting.api.server_error"

urlpatterns = [
    path("api/v1/", include(api_v1)),  # first: the most frequent calls by far
    path("", include("operations.urls")),  # /healthz, /readyz, /metrics
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's set-up script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("", include("accounts.urls")),
    path("", include("processing.urls")),
    path("", include("billing.urls")),
    path("", include("integrations.urls")),
    path("", include("delivery.urls")),
    path("", include("projects.urls")),
]

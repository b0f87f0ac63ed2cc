"""Root URL map. No language prefix: the language comes from the session or Accept-Language."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from accounts.views import healthz

urlpatterns = [
    # The app's API first: its calls are the portal's most frequent requests, and the resolver
    # tries the patterns in order (after the includes below, a call tried some 35 of them).
    path("api/v1/", include("devices.api_urls")),
    path("", RedirectView.as_view(pattern_name="accounts:signup", permanent=False)),
    path("", include("accounts.urls")),
    path("", include("consent.urls")),
    path("", include("rights.urls")),
    path("", include("devices.urls")),
    path("", include("licensing.urls")),
    path("", include("care.urls")),
    path("", include("security.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("audit/", include("audit.urls")),
]

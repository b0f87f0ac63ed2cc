"""Benchmark-only URLconf: the product URLs plus a bare view that runs one SELECT."""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path

from excelcrm.urls import urlpatterns as product_urlpatterns


def bare_select(request: HttpRequest, device_id: int) -> JsonResponse:
    """The baseline: the same middleware stack, one SELECT of one device row, a tiny JSON body."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, model FROM devices_device WHERE id = %s", [device_id])
        row = cursor.fetchone()
    return JsonResponse({"id": row[0] if row else None})


urlpatterns = [
    path("bench/select/<int:device_id>/", bare_select),
    *product_urlpatterns,
]

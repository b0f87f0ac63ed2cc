"""Benchmark-only URLconf: the product URLs plus baseline views.

- ``bench/select/<id>/``: the bare view the goal compares with (one SELECT of one device row);
- ``bench/floor/<id>/`` and ``bench/floor-logged/<id>/``: what a permission ``PUT`` cannot do
  without, and nothing else: parse the body, run the app's hot-path query (token, device,
  permissions, policy gate: ``devices.selectors``), and, in the second, queue the call's
  self-access row exactly as the ``PUT`` does, which the request's transaction then writes.
  No validation, comparison or response building: the floor under any implementation of the
  ``PUT`` on this machine.
"""

import json
from types import SimpleNamespace

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from consent.context import Channel
from devices.selectors import _hot_path_sql
from devices.services import PERMISSION_FIELDS, log_device_call, token_hash
from excelcrm.urls import urlpatterns as product_urlpatterns


def bare_select(request: HttpRequest, device_id: int) -> JsonResponse:
    """The baseline: the same middleware stack, one SELECT of one device row, a tiny JSON body."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, model FROM devices_device WHERE id = %s", [device_id])
        row = cursor.fetchone()
    return JsonResponse({"id": row[0] if row else None})


@csrf_exempt
def put_floor(request: HttpRequest, device_id: int, logged: bool) -> JsonResponse:
    """A permission report's unavoidable work: body, hot-path query, (the self-access row)."""
    json.loads(request.body)
    raw = request.headers.get("Authorization", "").partition(" ")[2]
    _permissions, _device, sql = _hot_path_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, ["accepted", "accepted", device_id, token_hash(raw), timezone.now()])
        rows = cursor.fetchall()
    customer_id = rows[0][len(_permissions) + _device.index("customer_id")] if rows else None
    if logged and customer_id is not None:
        # The very row the PUT writes (channel api, the device's reference, same indexes).
        request.access_context.channel = Channel.API
        log_device_call(SimpleNamespace(pk=device_id, customer_id=customer_id),
                        fields=PERMISSION_FIELDS)
    return JsonResponse({"id": device_id})


urlpatterns = [
    path("bench/select/<int:device_id>/", bare_select),
    path("bench/floor/<int:device_id>/", put_floor, {"logged": False}),
    path("bench/floor-logged/<int:device_id>/", put_floor, {"logged": True}),
    *product_urlpatterns,
]

"""Benchmark-only URLconf: the product URLs plus baseline views.

- ``bench/select/<id>/``: the bare view the goal compares with (one SELECT of one device row);
- ``bench/floor/<id>/``, ``bench/floor-logged/<id>/`` and ``bench/floor-changed/<id>/``: what a
  permission ``PUT`` cannot do without, and nothing else, each one statement in autocommit as
  the ``PUT`` runs it: parse the body and run the app's hot-path statement (token, device,
  permissions, policy gate: ``devices.selectors.hot_path_statement``); in the second, the same
  statement writing the call's self-access row as the ``PUT`` does (the least an unchanged report
  must write); in the third, that statement also storing the camera permission the body reports
  and its history row, written by hand here as a bare ``UPDATE`` and ``INSERT`` (the product's
  statement also compares all five, checks its conditions and sets ``last_seen``): the least a
  changed report must write. No validation, comparison or response building: the floor under any
  implementation of the ``PUT`` on this machine.
"""

import functools
import json

from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from consent.context import Channel
from devices.models import DevicePermission
from devices.selectors import hot_path_statement
from devices.services import PERMISSION_FIELDS
from excelcrm.urls import urlpatterns as product_urlpatterns


def bare_select(request: HttpRequest, device_id: int) -> JsonResponse:
    """The baseline: the same middleware stack, one SELECT of one device row, a tiny JSON body."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, model FROM devices_device WHERE id = %s", [device_id])
        row = cursor.fetchone()
    return JsonResponse({"id": row[0] if row else None})


@functools.cache
def _change_sql() -> str:
    """The camera permission's new state and its history row, as two more data-modifying WITHs."""
    table = DevicePermission._meta.db_table
    history = DevicePermission.history.model._meta.db_table
    return f""", "changed" AS (
            UPDATE "{table}" p SET "state" = %s, "observed_at" = %s, "source" = %s
            WHERE p."device_id" = %s AND p."name" = 'camera' AND p."state" <> %s
              AND EXISTS (SELECT 1 FROM "hot") RETURNING p.*),
        "history" AS (
            INSERT INTO "{history}" ("id", "history_purpose", "history_reference",
                "history_channel", "name", "state", "observed_at", "source", "history_date",
                "history_change_reason", "history_type", "device_id", "history_user_id")
            SELECT c."id", '', '', 'api', c."name", c."state", c."observed_at", c."source", %s,
                NULL, '~', c."device_id", (SELECT "hot_user_id" FROM "hot" LIMIT 1)
            FROM "changed" c)
        SELECT * FROM "hot\""""


@csrf_exempt
@transaction.non_atomic_requests
def put_floor(request: HttpRequest, device_id: int, logged: bool, changed: bool = False):
    """A permission report's unavoidable work: body, hot-path statement (+ rows it must write)."""
    body = json.loads(request.body)
    raw = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")[2]
    # The rows the PUT writes: channel api, the device's reference (the same partial index).
    request.access_context.channel = Channel.API
    sql, params, *_rest = hot_path_statement(
        raw=raw, device_id=device_id, log_fields=PERMISSION_FIELDS if logged else ()
    )
    if changed:
        camera = body["permissions"]["camera"]
        state = camera["state"]
        sql = sql.removesuffix(' SELECT * FROM "hot"') + _change_sql()
        params += [state, camera["observed_at"], camera["source"], device_id, state,
                   timezone.now()]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return JsonResponse({"id": device_id, "rows": len(rows)})


urlpatterns = [
    path("bench/select/<int:device_id>/", bare_select),
    path("bench/floor/<int:device_id>/", put_floor, {"logged": False}),
    path("bench/floor-logged/<int:device_id>/", put_floor, {"logged": True}),
    path("bench/floor-changed/<int:device_id>/", put_floor, {"logged": True, "changed": True}),
    *product_urlpatterns,
]

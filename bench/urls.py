"""Benchmark-only URLconf: the product URLs plus baseline views.

- ``bench/select/<id>/``: the bare view the goal compares with (one SELECT of one device row);
- ``bench/floor/<id>/``, ``bench/floor-logged/<id>/`` and ``bench/floor-changed/<id>/``: what a
  permission ``PUT`` cannot do without, and nothing else, each one statement in autocommit as
  the ``PUT`` runs it: parse the body and run the app's hot-path statement (token, device,
  permissions, policy gate: ``devices.selectors.hot_path_statement``); in the second, the same
  statement writing the call's self-access row as the ``PUT`` does (the least an unchanged report
  must write); in the third, that statement also storing the camera permission the body reports
  and its history row: a bare ``UPDATE`` written here and the history row the product writes
  (``consent.history.history_insert_select``; the product's statement also compares all five,
  checks its conditions and sets ``last_seen``): the least a changed report must write. No
  validation, comparison or response building: the floor under any implementation of the ``PUT``
  on this machine.
"""

import functools
import json

from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from consent.context import Channel
from consent.history import history_insert_select
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
    """The camera permission's new state, as one more data-modifying WITH."""
    return f""", "changed" AS (
            UPDATE "{DevicePermission._meta.db_table}" p
            SET "state" = %s, "observed_at" = %s, "source" = %s
            WHERE p."device_id" = %s AND p."name" = 'camera' AND p."state" <> %s
              AND EXISTS (SELECT 1 FROM "hot") RETURNING p.*)"""


def _history_sql() -> tuple[str, list]:
    """Its history row, as the product writes it (``consent.history.history_insert_select``)."""
    return history_insert_select(
        DevicePermission,
        source='"changed"',
        history_type="~",
        actor='(SELECT "hot_user_id" FROM "hot" LIMIT 1)',
    )


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
        history, history_params = _history_sql()
        sql = (
            sql.removesuffix(' SELECT * FROM "hot"')
            + f'{_change_sql()}, "history" AS ({history}) SELECT * FROM "hot"'
        )
        params += [state, camera["observed_at"], camera["source"], device_id, state,
                   *history_params]
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

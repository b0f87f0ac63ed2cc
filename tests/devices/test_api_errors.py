"""Every malformed or unauthorised request gets an RFC 9457 problem, never a 500."""

from datetime import timedelta

import pytest
from django.utils import timezone

from consent.models import AccessLog
from devices.models import DevicePermission

from .conftest import DEVICE, Api, full_report, iso, issue_token

pytestmark = pytest.mark.django_db


def problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"]
    return body


def pointers(body):
    return {(e["pointer"], e["code"]) for e in body["errors"]}


@pytest.fixture
def path(device_id):
    return f"/api/v1/devices/{device_id}/permissions/"


def test_unknown_permission_name_is_a_field_error(api, path):
    body = problem(api.put(path, full_report(microphone={"state": "granted"})), 400)
    assert ("/permissions/microphone", "unknown") in pointers(body)
    assert not DevicePermission.objects.exists()


def test_missing_permission_is_a_field_error(api, path):
    report = full_report()
    del report["permissions"]["calls"]
    body = problem(api.put(path, report), 400)
    assert pointers(body) == {("/permissions/calls", "required")}
    assert not DevicePermission.objects.exists()  # nothing half-written


def test_bad_state_and_bad_source_are_field_errors(api, path):
    now = iso(timezone.now())
    report = full_report(
        camera={"state": "maybe", "observed_at": now, "source": "app_prompt"},
        contacts={"state": "granted", "observed_at": now, "source": "guess"},
    )
    body = problem(api.put(path, report), 400)
    assert pointers(body) == {
        ("/permissions/camera/state", "invalid_choice"),
        ("/permissions/contacts/source", "invalid_choice"),
    }


def test_observation_more_than_five_minutes_ahead_is_refused(api, path):
    ahead = timezone.now() + timedelta(minutes=6)
    body = problem(api.put(path, full_report(at=ahead)), 400)
    assert ("/permissions/camera/observed_at", "future") in pointers(body)
    # Four minutes ahead is within the allowed clock drift.
    ok = api.put(path, full_report(at=timezone.now() + timedelta(minutes=4)))
    assert ok.status_code == 200


def test_observation_before_registration_is_refused(api, path, device_id):
    before = timezone.now() - timedelta(hours=1)
    response = api.put(path, full_report(at=before))
    body = problem(response, 400)
    assert ("/permissions/notifications/observed_at", "before_registration") in pointers(body)
    # The call read the customer's device (its registration time) before refusing: it is logged
    # as their self-access, on every database alike, and nothing was stored.
    row = AccessLog.objects.get(request_id=response["X-Request-ID"])
    assert (row.action, row.reference, row.fields) == (
        "api", f"device #{device_id}", "device_permissions"
    )
    assert not DevicePermission.objects.filter(device_id=device_id).exists()
    # Likewise once the device has reported (the hot path, one statement on PostgreSQL).
    assert api.put(path, full_report()).status_code == 200
    again = api.put(path, full_report("denied", at=before))
    problem(again, 400)
    assert AccessLog.objects.filter(request_id=again["X-Request-ID"]).count() == 1
    assert set(DevicePermission.objects.values_list("state", flat=True)) == {"granted"}


def test_naive_or_garbled_time_is_refused(api, path):
    body = problem(
        api.put(
            path,
            full_report(
                camera={
                    "state": "granted",
                    "observed_at": "2026-11-26T08:00:00",
                    "source": "app_prompt",
                },
                calls={"state": "granted", "observed_at": "yesterday", "source": "app_prompt"},
            ),
        ),
        400,
    )
    assert pointers(body) == {
        ("/permissions/camera/observed_at", "invalid_datetime"),
        ("/permissions/calls/observed_at", "invalid_datetime"),
    }


@pytest.mark.parametrize("raw", ['{"permissions": ', "[1, 2]", "NaN", "\xff"])
def test_malformed_json_is_refused(api, path, raw):
    body = problem(api.put(path, raw=raw), 400)
    assert body["errors"][0]["pointer"] == ""


def test_wrong_content_type_is_refused(api, path):
    body = problem(api.put(path, full_report(), content_type="text/plain"), 400)
    assert "application/json" in body["detail"]


def test_errors_are_in_english_when_asked(api, path):
    report = full_report()
    del report["permissions"]["camera"]
    english = problem(api.put(path, report, HTTP_ACCEPT_LANGUAGE="en"), 400)
    vietnamese = problem(api.put(path, report, HTTP_ACCEPT_LANGUAGE="vi"), 400)
    assert english["errors"][0]["detail"] == "Report the state of this permission."
    assert vietnamese["errors"][0]["detail"] != english["errors"][0]["detail"]


def test_register_field_errors(api):
    body = problem(
        api.post(
            "/api/v1/devices/",
            {**DEVICE, "platform": "symbian", "install_id": "a b", "model": "", "extra": 1},
        ),
        400,
    )
    assert pointers(body) == {
        ("/platform", "invalid_choice"),
        ("/install_id", "invalid"),
        ("/model", "required"),
        ("/extra", "unknown"),
    }


@pytest.mark.parametrize(
    "headers",
    [{}, {"HTTP_AUTHORIZATION": "Bearer nope"}, {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"}],
)
def test_no_or_unknown_token_is_401(client, device_id, headers):
    response = Api(client).get(f"/api/v1/devices/{device_id}/permissions/", **headers)
    problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_another_customers_device_is_404_like_a_missing_one(api, client, other_customer, path):
    theirs = Api(client, issue_token(client, other_customer.user.email))
    foreign = problem(theirs.get(path), 404)
    missing = problem(theirs.get("/api/v1/devices/999999/permissions/"), 404)
    assert {k: v for k, v in foreign.items() if k != "instance"} == {
        k: v for k, v in missing.items() if k != "instance"
    }
    problem(theirs.put(path, full_report()), 404)
    problem(theirs.delete(path.replace("permissions/", "")), 404)
    assert not DevicePermission.objects.exists()


def test_huge_device_id_is_404_not_500(api):
    problem(api.get(f"/api/v1/devices/{2**70}/"), 404)


def test_body_over_64_kib_is_413(api, path):
    padding = "x" * (64 * 1024)
    report = full_report()
    report["padding"] = padding
    problem(api.put(path, report), 413)


def test_declared_length_over_the_limit_is_413_before_reading(api, path, client):
    response = client.generic(
        "PUT",
        path,
        data=b"{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api.token}",
        CONTENT_LENGTH=str(10 * 1024 * 1024),
    )
    problem(response, 413)


def test_limit_below_djangos_upload_limit_still_gives_413(api, path, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    report = full_report()
    report["padding"] = "x" * 2000
    problem(api.put(path, report), 413)


def test_wrong_method_is_405_problem(api, path):
    response = api.post(path, full_report())
    problem(response, 405)
    assert response["Allow"] == "GET, PUT"


def test_unknown_api_path_is_404_problem(api):
    problem(api.get("/api/v1/nothing-here/"), 404)

"""Contract tests: every endpoint's responses conform to the served OpenAPI 3.1 document.

Two layers, both offline and in-process (Django's WSGI application, the test database):
- each documented status of each endpoint is produced by a real request and validated by
  schemathesis (status code, content type, headers and body schema);
- schemathesis generates requests from the document for every operation (seeded, bounded) and
  checks that none gets a 500 or an undocumented status or body.
"""

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from devices.openapi import openapi_document
from devices.services import api_token_create

from .conftest import DEVICE, NAMES, full_report, issue_token

pytestmark = pytest.mark.django_db

def APP(environ, start_response):
    """Django's WSGI application, keeping the test's database connection as the test client does.

    The real handler's request signals would close a connection that is inside the test's
    transaction, so they are detached for the request (and the response is closed inside).
    The handler is built per request, as the test client builds its own: middleware reads
    settings when it loads, so it must see the test's settings (plain HTTP, rate limits), not
    those in force when this module was imported.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = get_wsgi_application()(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            response.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


SCHEMA = schemathesis.openapi.from_dict(openapi_document())
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(autouse=True)
def _any_host(settings):
    settings.ALLOWED_HOSTS = ["*"]


def call(method, path, *, token=None, body=None, raw=None, headers=None, **params):
    """Send a request described by the document's operation and validate the response."""
    template = path
    operation = SCHEMA[template][method]
    case_kwargs = {"path_parameters": params} if params else {}
    if body is not None:
        case_kwargs["body"] = body
        case_kwargs["media_type"] = "application/json"
    case = operation.Case(**case_kwargs)
    all_headers = dict(headers or {})
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    kwargs = {}
    if raw is not None:
        kwargs["data"] = raw
        all_headers.setdefault("Content-Type", "application/json")
    response = case.call(app=APP, headers=all_headers, **kwargs)
    case.validate_response(response, checks=CHECKS)
    return response


def test_every_path_documents_the_methods_it_refuses():
    document = openapi_document()
    for path, item in document["paths"].items():
        for method in ("get", "put", "post", "delete", "patch"):
            responses = item[method]["responses"]
            assert responses, (path, method)
            if "405" in responses:
                assert "Allow" in responses["405"]["headers"]
                assert "application/problem+json" in responses["405"]["content"]


def test_served_document_is_the_openapi_document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json() == json.loads(json.dumps(openapi_document()))
    assert response.json()["openapi"] == "3.1.0"


def test_every_documented_response_conforms(client, customer, other_customer):
    email = customer.user.email
    token = call(
        "POST", "/auth/token/", body={"email": email, "password": "correct-horse-battery-9"}
    ).json()["token"]
    assert call("POST", "/auth/token/", body={"email": email, "password": "x"}).status_code == 401
    assert call("POST", "/auth/token/", body={"email": email}).status_code == 400
    assert call("POST", "/auth/token/", raw="x" * (70 * 1024)).status_code == 413

    created = call("POST", "/devices/", token=token, body=DEVICE)
    assert created.status_code == 201
    device_id = created.json()["id"]
    assert call("POST", "/devices/", token=token, body=DEVICE).status_code == 200
    assert (
        call("POST", "/devices/", token=token, body={**DEVICE, "platform": "x"}).status_code == 400
    )
    assert call("POST", "/devices/", body=DEVICE).status_code == 401
    assert call("POST", "/devices/", token=token, raw="[" * (70 * 1024)).status_code == 413

    perms = "/devices/{device_id}/permissions/"
    assert call("GET", perms, token=token, device_id=device_id).status_code == 200
    assert (
        call("PUT", perms, token=token, device_id=device_id, body=full_report()).status_code == 200
    )
    assert (
        call("PUT", perms, token=token, device_id=device_id, body=full_report()).status_code == 200
    )
    bad = full_report()
    del bad["permissions"][NAMES[0]]
    assert call("PUT", perms, token=token, device_id=device_id, body=bad).status_code == 400
    assert call("PUT", perms, token=token, device_id=device_id, raw="{").status_code == 400
    assert call("PUT", perms, device_id=device_id, body=full_report()).status_code == 401
    assert call("PUT", perms, token=token, device_id=device_id, raw=" " * 70000).status_code == 413
    assert call("GET", perms, device_id=device_id).status_code == 401

    other = issue_token(client, other_customer.user.email)
    assert call("GET", perms, token=other, device_id=device_id).status_code == 404
    assert (
        call("PUT", perms, token=other, device_id=device_id, body=full_report()).status_code == 404
    )

    detail = "/devices/{device_id}/"
    assert call("GET", detail, token=token, device_id=device_id).status_code == 200
    assert call("GET", detail, device_id=device_id).status_code == 401
    assert call("GET", detail, token=other, device_id=device_id).status_code == 404
    assert call("DELETE", detail, token=other, device_id=device_id).status_code == 404
    assert call("DELETE", detail, device_id=device_id).status_code == 401
    assert call("DELETE", detail, token=token, device_id=device_id).status_code == 204

    assert call("GET", "/openapi.json").status_code == 200
    for method, path, params in [
        ("PATCH", perms, {"device_id": device_id}),
        ("POST", perms, {"device_id": device_id}),
        ("DELETE", perms, {"device_id": device_id}),
        ("PUT", detail, {"device_id": device_id}),
        ("GET", "/devices/", {}),
        ("GET", "/auth/token/", {}),
        ("POST", "/openapi.json", {}),
    ]:
        # validated against the document: problem+json with the Allow header it requires
        assert call(method, path, token=token, **params).status_code == 405, (method, path)
    assert call("DELETE", "/auth/token/", token=token).status_code == 204
    assert call("DELETE", "/auth/token/", token=token).status_code == 401


@pytest.fixture
def bearer(customer):
    from consent.context import Channel, access_context

    with access_context(actor=customer.user, channel=Channel.API):
        raw, _ = api_token_create(user=customer.user)
    return raw


# Revoking the token in use would turn every later example into a 401; it is covered above.
@SCHEMA.exclude(method="DELETE", path="/auth/token/").parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_generated_requests_get_documented_responses(case, bearer):
    response = case.call(app=APP, headers={"Authorization": f"Bearer {bearer}"})
    case.validate_response(response, checks=CHECKS)

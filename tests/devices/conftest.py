"""Fixtures of the devices tests: an API client with a customer's token and a registered device."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from tests import factories

NAMES = ["camera", "internet", "contacts", "calls", "notifications"]


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def full_report(state: str = "granted", *, at: datetime | None = None, source="app_prompt", **over):
    """Return a PUT body with all five permissions in ``state``; ``over`` sets single names."""
    at = at or timezone.now()
    body = {name: {"state": state, "observed_at": iso(at), "source": source} for name in NAMES}
    for name, value in over.items():
        body[name] = value
    return {"permissions": body}


class Api:
    """The test client speaking JSON with a bearer token."""

    def __init__(self, client, token: str | None = None):
        self.client = client
        self.token = token

    def _headers(self, headers):
        out = dict(headers or {})
        if self.token and "HTTP_AUTHORIZATION" not in out:
            out["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        return out

    def get(self, path, **headers):
        return self.client.get(path, **self._headers(headers))

    def delete(self, path, **headers):
        return self.client.delete(path, **self._headers(headers))

    def send(self, method, path, data=None, *, raw=None, content_type="application/json", **h):
        body = raw if raw is not None else json.dumps(data)
        call = getattr(self.client, method.lower())
        return call(path, data=body, content_type=content_type, **self._headers(h))

    def post(self, path, data=None, **kwargs):
        return self.send("POST", path, data, **kwargs)

    def put(self, path, data=None, **kwargs):
        return self.send("PUT", path, data, **kwargs)


def issue_token(client, email: str, password: str = factories.PASSWORD) -> str:
    response = Api(client).post("/api/v1/auth/token/", {"email": email, "password": password})
    assert response.status_code == 201, response.content
    return response.json()["token"]


DEVICE = {
    "install_id": "3f1c2a9e-7b44-4c1e-9d0a-5e6f7a8b9c0d",
    "platform": "android",
    "model": "Samsung Galaxy A54",
    "os_version": "14",
    "app_version": "2.3.1",
}


@pytest.fixture
def api(client, customer):
    return Api(client, issue_token(client, customer.user.email))


@pytest.fixture
def device_id(api):
    response = api.post("/api/v1/devices/", DEVICE)
    assert response.status_code == 201, response.content
    return response.json()["id"]


@pytest.fixture
def other_customer(db):
    return factories.make_customer(email="other@example.com", phone="+84987654321")


__all__ = ["Api", "DEVICE", "NAMES", "full_report", "iso", "issue_token", "timedelta"]

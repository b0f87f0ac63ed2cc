"""Object-level access, driven by the URL resolver so that every route (also later ones) is covered.

- Every customer-facing and API route with a path parameter, given another customer's ids,
  answers 404 (API: 401/403/404) and shows none of that customer's data.
- Every /admin/ and /audit/ route, with a customer's session, redirects to a sign-in page.
"""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import Customer, User
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

STAFF_PREFIXES = ("admin/", "audit/")
# Sign-in and sign-out pages of the staff area are not staff pages.
STAFF_EXEMPT_NAMES = {"login", "logout"}
# Parameters that are not object ids (signed links, policy labels): such routes must still show
# nothing of another customer and never fail, but may answer 200 (an "invalid link" page).
NON_OBJECT_PARAMS = {"uidb64", "token", "label"}
PARAM_RE = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")
REGEX_GROUP_RE = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^)]*)\)")


def _regex_to_route(text: str) -> str:
    """Turn a simple re_path pattern into a route template (named groups become parameters)."""
    if not text.startswith("^") and "(" not in text:
        return text

    def group(match: re.Match) -> str:
        body = match.group("body")
        if re.fullmatch(r"[\w|-]+", body):  # an alternation of literals: take the first
            return body.split("|")[0]
        return f"<{match.group('name')}>"

    text = REGEX_GROUP_RE.sub(group, text)
    text = re.sub(r"\([^)]*\)", "<param>", text)  # unnamed groups
    return text.lstrip("^").rstrip("$").replace("\\", "")


def all_routes() -> list[tuple[str, str | None]]:
    """Return (route template, url name) for every URL pattern of the project."""
    routes: list[tuple[str, str | None]] = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            part = _regex_to_route(str(pattern.pattern))
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + part)
            elif isinstance(pattern, URLPattern):
                routes.append((prefix + part, pattern.name))

    walk(get_resolver().url_patterns, "")
    return routes


def _fill(route: str, value: str) -> str:
    return "/" + PARAM_RE.sub(value, route)


def owned_ids(customer: Customer) -> set[int]:
    """Return the primary keys of every row that refers directly to this customer or login."""
    ids = {customer.pk, customer.user.pk}
    targets = {Customer: customer, User: customer.user}
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.ForeignKey) and field.related_model in targets:
                owner = targets[field.related_model]
                ids.update(model._default_manager.filter(**{field.name: owner})
                           .values_list("pk", flat=True))
    return {pk for pk in ids if isinstance(pk, int)}


def test_the_resolver_walk_finds_the_known_routes():
    routes = {route for route, _name in all_routes()}
    assert "admin/accounts/customer/<path:object_id>/change/" in routes
    assert "policy/<str:label>/" in routes
    assert "admin/auth/" in routes  # from the admin's re_path app index
    assert "admin/accounts/customer/<param>/history/<param>/" in routes  # unnamed groups
    assert "admin/<url>" in routes  # the admin's catch-all


def test_staff_routes_redirect_a_customer_to_sign_in():
    customer = make_customer()
    client = Client()
    client.force_login(customer.user)
    checked = 0
    for route, name in all_routes():
        if not route.startswith(STAFF_PREFIXES) or name in STAFF_EXEMPT_NAMES:
            continue
        url = _fill(route, "1")
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith((reverse("admin:login"), reverse("accounts:login"))), url
        checked += 1
    assert checked > 20


def test_customer_and_api_routes_answer_404_for_another_customers_ids():
    mine = make_customer(email="a@example.com", contact_person="Phạm Thị Mai",
                         phone="+84911111111")
    theirs = make_customer(email="b-secret@example.com", contact_person="Đỗ Quang Vinh",
                           phone="+84922222222", business_name="Công ty Bí Mật")
    candidates = sorted(owned_ids(theirs) - owned_ids(mine))
    assert candidates
    client = Client()
    client.force_login(mine.user)
    checked = 0
    for route, _name in all_routes():
        if route.startswith(STAFF_PREFIXES) or not PARAM_RE.search(route):
            continue
        for pk in candidates:
            url = _fill(route, str(pk))
            response = client.get(url)
            if response.status_code == 405:
                response = client.post(url, {})
            allowed = {401, 403, 404} if route.startswith("api/") else {404}
            params = {m.group("name") for m in PARAM_RE.finditer(route)}
            if params <= NON_OBJECT_PARAMS:
                # A token or label names no object: the page itself, or (a bad link) a
                # redirect back to the customer's own page with an error message.
                allowed = allowed | {200, 302}
            assert response.status_code in allowed, (url, response.status_code)
            body = response.content.decode(errors="replace")
            for secret in ("b-secret@example.com", "Đỗ Quang Vinh", "+84922222222"):
                assert secret not in body, (url, secret)
            checked += 1
    assert checked >= len(candidates)  # at least /policy/<label>/


def test_api_routes_answer_404_for_another_customers_ids_with_a_valid_token():
    """Bearer-authenticated, as the app calls them: another customer's device is a 404."""
    from consent.context import access_context
    from devices.services import api_token_create, device_register

    mine = make_customer(email="a@example.com", phone="+84911111111")
    theirs = make_customer(email="b-secret@example.com", contact_person="Đỗ Quang Vinh",
                           phone="+84922222222")
    with access_context(actor=theirs.user, channel="api"):
        device, _created = device_register(
            customer=theirs, install_id="their-phone", platform="android",
            model="Secret Model X", os_version="14", app_version="2.3.1")
        api_token_create(user=theirs.user, name="their app")
    with access_context(actor=mine.user, channel="api"):
        raw, _token = api_token_create(user=mine.user, name="my app")
    # The API's ids are device ids and ``mine`` has no device: every id of theirs is foreign.
    candidates = sorted(owned_ids(theirs) | {device.pk})
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    checked = 0
    for route, _name in all_routes():
        if not route.startswith("api/") or not PARAM_RE.search(route):
            continue
        for pk in candidates:
            url = _fill(route, str(pk))
            for method in ("get", "put", "delete"):
                response = (client.get(url) if method == "get" else getattr(client, method)(
                    url, data="{}", content_type="application/json"))
                if response.status_code == 405:
                    continue
                assert response.status_code == 404, (method, url, response.status_code)
                assert response["Content-Type"].startswith("application/problem+json")
                body = response.content.decode()
                for secret in ("b-secret@example.com", "Secret Model X", "their-phone"):
                    assert secret not in body, (url, secret)
                checked += 1
    assert checked >= 2 * len(candidates)  # device and its permissions, at least GET
    device.refresh_from_db()
    assert device.unregistered_at is None  # the DELETE of their device changed nothing
    assert not device.permissions.exists()  # nor did the PUT of its permissions

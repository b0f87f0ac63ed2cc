"""Purposes, policy versions, consent records and the access log are read-only in the admin."""

import datetime

import pytest

from consent.models import AccessLog, PolicyVersion, Purpose, sha256_hex
from tests.accesslog import rows

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["support_user", "account_manager", "reviewer"])
def test_staff_and_reviewers_see_the_purposes_read_only(client, request, role):
    client.force_login(request.getfixturevalue(role))
    response = client.get("/admin/consent/purpose/")
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 5
    purpose = Purpose.objects.get(code="complaints")
    change = client.get(f"/admin/consent/purpose/{purpose.pk}/change/")
    assert change.status_code == 200
    assert 'name="code"' not in change.content.decode()


@pytest.mark.parametrize("page", ["add/", "{pk}/delete/"])
def test_nobody_adds_or_deletes_a_purpose(client, superuser, page):
    client.force_login(superuser)
    purpose = Purpose.objects.get(code="complaints")
    assert client.get(f"/admin/consent/purpose/{page.format(pk=purpose.pk)}").status_code == 403


def test_nobody_renames_a_purpose(client, superuser):
    client.force_login(superuser)
    purpose = Purpose.objects.get(code="complaints")
    response = client.post(
        f"/admin/consent/purpose/{purpose.pk}/change/",
        {
            "code": "complaints",
            "name_en": "Marketing",
            "name_vi": "x",
            "position": 5,
            "clause_vi": "x",
            "clause_en": "x",
        },
    )
    assert response.status_code == 403
    purpose.refresh_from_db()
    assert purpose.name_en == "Complaints"


def test_policy_version_is_published_through_the_add_form(client, superuser):
    client.force_login(superuser)
    response = client.post(
        "/admin/consent/policyversion/add/",
        {
            "label": "1.1",
            "effective_date": "2026-12-01",
            "text_vi": "Chính sách mới",
            "text_en": "New policy",
        },
    )
    assert response.status_code == 302
    version = PolicyVersion.objects.get(label="1.1")
    assert version.effective_date == datetime.date(2026, 12, 1)
    assert version.sha256_vi == sha256_hex("Chính sách mới")
    assert version.sha256_en == sha256_hex("New policy")


def test_policy_version_label_must_be_new(client, superuser):
    client.force_login(superuser)
    response = client.post(
        "/admin/consent/policyversion/add/",
        {"label": "1.0", "effective_date": "2026-12-01", "text_vi": "a", "text_en": "b"},
    )
    assert response.status_code == 200
    assert "label" in response.context["adminform"].form.errors


def test_published_policy_version_is_never_edited_or_deleted(client, superuser, policy):
    client.force_login(superuser)
    url = f"/admin/consent/policyversion/{policy.pk}/"
    page = client.get(url + "change/")
    assert page.status_code == 200 and 'name="text_vi"' not in page.content.decode()
    response = client.post(
        url + "change/",
        {"label": "1.0", "effective_date": "2026-01-01", "text_vi": "x", "text_en": "y"},
    )
    assert response.status_code == 403
    assert client.post(url + "delete/", {"post": "yes"}).status_code == 403
    policy.refresh_from_db()
    assert policy.sha256_vi == sha256_hex(policy.text_vi)


def test_staff_cannot_publish_a_policy_version(client, support_user):
    client.force_login(support_user)
    assert client.get("/admin/consent/policyversion/add/").status_code == 403


def test_consent_records_are_read_only_and_ip_is_masked_without_purpose(
    client, superuser, customer, declare
):
    client.force_login(superuser)
    record = customer.consents.get()
    url = f"/admin/consent/consentrecord/{record.pk}/"
    assert client.get("/admin/consent/consentrecord/add/").status_code == 403
    assert client.post(url + "delete/", {"post": "yes"}).status_code == 403
    html = client.get(url + "change/").content.decode()
    assert "127.0.0.1" not in html and "pytest" not in html
    assert rows(channel="admin") == []
    declare(client, "complaints")
    html = client.get(url + "change/").content.decode()
    assert "127.0.0.1" in html
    assert rows(channel="admin") == [
        (
            superuser.pk,
            customer.pk,
            "complaints",
            "",
            "view",
            "ip_address,user_agent",
            "admin",
            "allowed",
        ),
    ]


def test_access_log_is_read_only(client, reviewer, customer):
    client.force_login(reviewer)
    response = client.get("/admin/consent/accesslog/")
    assert response.status_code == 200
    entry = AccessLog.objects.get()
    assert client.get("/admin/consent/accesslog/add/").status_code == 403
    assert (
        client.post(f"/admin/consent/accesslog/{entry.pk}/delete/", {"post": "y"}).status_code
        == 403
    )
    response = client.post(f"/admin/consent/accesslog/{entry.pk}/change/", {"purpose": "licensing"})
    assert response.status_code == 403
    assert AccessLog.objects.get().purpose == ""


def test_access_log_search_by_customer_id_and_text(client, reviewer, customer):
    client.force_login(reviewer)
    found = client.get("/admin/consent/accesslog/", {"q": str(customer.pk)})
    assert len(found.context["cl"].result_list) == 1
    assert client.get("/admin/consent/accesslog/", {"q": "not-a-number"}).status_code == 200

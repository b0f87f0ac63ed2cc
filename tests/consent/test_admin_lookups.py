"""URL filters on personal data: refused without a purpose, only declared filters with one.

Django lets ``?field__lookup=value`` through for any field of the listed model, which would answer
questions about the values a page masks (``?phone__startswith=+849876`` keeps or drops a row).
Every admin using ``PersonalDataAdminMixin`` is walked, for every personal field it declares.
"""

import pytest
from django.contrib import admin
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.core.exceptions import FieldDoesNotExist
from django.test import RequestFactory
from django.urls import reverse

from consent.admin_mixins import PersonalDataAdminMixin
from consent.context import AccessContext, Channel
from consent.models import ConsentRecord
from tests.accesslog import force_declaration, rows
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

# The lookups the audit found open; the walk below must cover each of them.
REQUIRED = {
    ("accounts.Customer", "contact_person"),
    ("accounts.Customer", "phone"),
    ("accounts.Customer", "user__email"),
    ("accounts.User", "email"),
    ("consent.ConsentRecord", "ip_address"),
    ("consent.ConsentRecord", "user_agent"),
}


def personal_lookups():
    """Yield (admin, field path) for every personal model field of every mixin admin."""
    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, PersonalDataAdminMixin):
            continue
        for name in (*model_admin.personal_fields, *getattr(model_admin, "personal_paths", ())):
            try:
                get_fields_from_path(model, name)
            except (FieldDoesNotExist, NotRelationField):
                continue  # a property or admin method: not a lookup
            yield model_admin, name


LOOKUPS = list(personal_lookups())
PARAMS = [
    pytest.param(model_admin, name, id=f"{model_admin.opts.label}:{name}")
    for model_admin, name in LOOKUPS
]


def test_the_walk_covers_every_lookup_the_audit_found_open():
    assert {(ma.opts.label, name) for ma, name in LOOKUPS} >= REQUIRED


def changelist(model_admin):
    return reverse(f"admin:{model_admin.opts.app_label}_{model_admin.opts.model_name}_changelist")


def an_allowed_purpose(model_admin):
    return sorted(model_admin.allowed_purposes or {"customer_care"})[0]


@pytest.fixture
def staff(client, superuser):
    make_customer(contact_person="Trần Thị Bích", phone="+84987654321", email="bich@example.com")
    client.force_login(superuser)
    return superuser


@pytest.mark.parametrize(("model_admin", "name"), PARAMS)
@pytest.mark.parametrize("suffix", ["", "__startswith", "__regex", "__isnull"])
def test_lookup_on_personal_field_without_purpose_is_a_400_page(
    client, staff, model_admin, name, suffix
):
    response = client.get(changelist(model_admin), {f"{name}{suffix}": "a"})
    assert response.status_code == 400
    assert "cl" not in response.context  # no list was built, nothing to count or compare
    html = response.content.decode()
    assert 'id="refusal-reason"' in html
    assert "declared purpose" in html or "mục đích" in html
    assert rows(channel="admin") == []


@pytest.mark.parametrize(("model_admin", "name"), PARAMS)
def test_pattern_lookup_on_personal_field_is_refused_under_an_allowed_purpose_too(
    client, staff, model_admin, name
):
    force_declaration(client, an_allowed_purpose(model_admin), "T-9")
    response = client.get(changelist(model_admin), {f"{name}__startswith": "b"})
    assert response.status_code == 400
    assert "cl" not in response.context
    assert rows(channel="admin") == [
        (staff.pk, None, an_allowed_purpose(model_admin), "T-9", "search", "", "admin", "denied")
    ]


def test_lookup_through_a_relation_to_a_personal_field_is_refused(client, staff):
    response = client.get(
        "/admin/consent/consentrecord/", {"customer__contact_person__startswith": "Tr"}
    )
    assert response.status_code == 400


def test_filters_that_are_not_personal_still_work(client, staff):
    response = client.get("/admin/consent/consentrecord/", {"kind__exact": "accepted"})
    assert response.status_code == 200
    response = client.get("/admin/accounts/customer/", {"business_name__startswith": "C"})
    assert response.status_code == 200


def test_refusal_page_is_translated_and_links_back(client, staff):
    response = client.get(
        "/admin/accounts/customer/", {"phone__startswith": "+849"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Filtering by customers&#x27; personal data needs a declared purpose." in html
    assert 'href="/admin/accounts/customer/"' in html
    assert 'href="/admin/purpose/"' in html


# -- a declared filter on a personal field ---------------------------------------------------


class IpFilterAdmin(PersonalDataAdminMixin, admin.ModelAdmin):
    personal_fields = ("ip_address", "user_agent")
    subject_path = "customer_id"
    list_filter = ["kind", "ip_address"]


def request_for(user, purpose):
    request = RequestFactory().get("/admin/x/")
    request.user = user
    request.access_context = AccessContext(actor=user, channel=Channel.ADMIN, purpose=purpose)
    return request


@pytest.fixture
def ip_admin():
    return IpFilterAdmin(ConsentRecord, admin.AdminSite(name="lookups-test"))


def test_declared_personal_filter_is_hidden_and_refused_without_purpose(ip_admin, support_user):
    request = request_for(support_user, None)
    assert ip_admin.get_list_filter(request) == ["kind"]
    assert not ip_admin.lookup_allowed("ip_address", "127.0.0.1", request)
    assert ip_admin.lookup_allowed("kind", "accepted", request)


def test_declared_personal_filter_works_under_a_purpose_but_patterns_do_not(
    ip_admin, support_user
):
    request = request_for(support_user, "customer_care")
    assert ip_admin.get_list_filter(request) == ["kind", "ip_address"]
    assert ip_admin.lookup_allowed("ip_address", "127.0.0.1", request)
    assert ip_admin.lookup_allowed("ip_address__isnull", "True", request)
    assert not ip_admin.lookup_allowed("ip_address__startswith", "127", request)
    assert not ip_admin.lookup_allowed("user_agent", "pytest", request)  # not a declared filter
    assert not ip_admin.lookup_allowed("ip_address", "127.0.0.1", None)

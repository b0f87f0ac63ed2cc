"""The mixin on another model: related paths, allowed purposes, grouped fields, cells."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.utils import translation

from consent.admin_mixins import ALLOWED, DENIED, NONE, PersonalDataAdminMixin, neutralize_cell
from consent.context import AccessContext, Channel, bind_context
from consent.models import ConsentRecord
from tests.accesslog import rows

pytestmark = pytest.mark.django_db


class LicenceLikeAdmin(PersonalDataAdminMixin, admin.ModelAdmin):
    personal_fields = ("customer__contact_person", "ip_address")
    subject_path = "customer_id"
    allowed_purposes = {"licensing"}
    list_display = ["recorded_at", "customer__contact_person", "kind"]
    fieldsets = [(None, {"fields": [("customer__contact_person", "kind"), "ip_address"]})]
    readonly_fields = ["customer__contact_person"]


@pytest.fixture
def model_admin():
    return LicenceLikeAdmin(ConsentRecord, admin.AdminSite(name="test"))


def request_for(user, purpose):
    request = RequestFactory().get("/admin/x/")
    request.user = user
    request.access_context = AccessContext(actor=user, channel=Channel.ADMIN, purpose=purpose)
    return request


def test_state_follows_the_declared_purpose_and_the_admins_allowed_purposes(
    model_admin, account_manager, support_user
):
    assert model_admin.purpose_state(request_for(account_manager, None)) == NONE
    assert model_admin.purpose_state(request_for(account_manager, "licensing")) == ALLOWED
    # Granted to the user but not allowed by this admin:
    assert model_admin.purpose_state(request_for(support_user, "customer_care")) == DENIED
    # Allowed by this admin but not granted to the user:
    assert model_admin.purpose_state(request_for(support_user, "licensing")) == DENIED


def test_refusal_explains_which_rule_refused(model_admin, support_user):
    with translation.override("en"):
        reason = model_admin.purpose_denied_reason(request_for(support_user, "customer_care"))
        assert reason.startswith("The purpose you declared does not cover consent records.")
        reason = model_admin.purpose_denied_reason(request_for(support_user, "licensing"))
        assert reason.startswith("None of your roles grants the purpose you declared")


def test_related_paths_are_masked_labelled_and_logged_by_their_last_part(
    model_admin, account_manager, customer
):
    record = customer.consents.get()
    request = request_for(account_manager, None)
    columns = model_admin.get_list_display(request)
    assert columns == ["recorded_at", "masked__customer__contact_person", "kind"]
    masked = getattr(model_admin, columns[1])
    with translation.override("en"):
        assert str(masked.short_description) == "Contact person"
    assert masked(record) == "Nguyễn V. A***"
    allowed = request_for(account_manager, "licensing")
    assert model_admin.get_list_display(allowed)[1] == "customer__contact_person"
    with bind_context(allowed.access_context):
        model_admin.log_access(
            allowed,
            [record],
            action="list",
            fields=model_admin.personal_in(model_admin.get_list_display(allowed)),
        )
        queued = [(r.customer_id, r.fields, r.purpose) for r in allowed.access_context.pending]
    assert queued == [(customer.pk, "contact_person", "licensing")]
    assert rows(action="list") == []  # written only when the request's transaction ends


def test_read_only_fieldsets_mask_grouped_fields(model_admin, account_manager, customer):
    record = customer.consents.get()
    request = request_for(account_manager, None)
    fieldsets = model_admin.get_fieldsets(request, record)
    assert fieldsets[0][1]["fields"] == [
        ("masked__customer__contact_person", "kind"),
        "masked__ip_address",
    ]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+84912345678", "'+84912345678"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Nguyễn Văn An", "Nguyễn Văn An"),
        (None, ""),
        (5, 5),
    ],
)
def test_spreadsheet_cells_that_could_start_a_formula_are_neutralised(value, cell):
    assert neutralize_cell(value) == cell

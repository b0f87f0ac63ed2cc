"""Erasure removes a customer's personal values from every table; the skeleton stays."""

import io

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from accounts.models import Customer, User
from accounts.services import customer_update
from audit.models import GateUse
from consent.context import Channel, access_context
from consent.models import AccessLog
from rights import services
from rights.erasure import customer_erase, erased_email
from rights.models import DataSubjectRequest, ErasureRecord
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

NAME, NEW_NAME = "Phạm Thị Xoá", "Phạm Thị Mới"
PHONE_DIGITS, NEW_PHONE_DIGITS = "935550123", "935550999"
EMAIL, NEW_EMAIL = "erase.me@example.com", "erase.new@example.com"
REASON = "Xin xoá, số cũ 0935550123"
OLD_VALUES = [NAME, NEW_NAME, PHONE_DIGITS, NEW_PHONE_DIGITS, "erase.me", "erase.new", REASON]
KEPT_VALUES = ["Trần Văn Giữ", "977770001", "keep.me@example.com"]


def build_history(staff):
    """A customer with a history of changes, a request and an admin log entry; another to keep."""
    customer = make_customer(
        email=EMAIL, contact_person=NAME, phone="+84" + PHONE_DIGITS, business_name="Công ty Xoá"
    )
    keep = make_customer(
        email=KEPT_VALUES[2], contact_person=KEPT_VALUES[0], phone="+84" + KEPT_VALUES[1]
    )
    with access_context(actor=customer.user, channel=Channel.PORTAL, reason="correction"):
        customer_update(
            customer=customer,
            contact_person=NEW_NAME,
            phone="+84" + NEW_PHONE_DIGITS,
            email=NEW_EMAIL,
        )
        request = services.request_file(customer=customer, kind="erasure", reason=REASON)
    LogEntry.objects.create(
        user=staff,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(customer.user_id),
        object_repr=str(customer.user),
        action_flag=CHANGE,
        change_message="[]",
    )
    return Customer.objects.get(pk=customer.pk), keep, request


def all_cells():
    """Yield (table, value) for every text-like cell of every table in the database."""
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, (str, bytes, memoryview)):
                        yield (
                            table,
                            bytes(value).decode("utf-8", "replace")
                            if not isinstance(value, str)
                            else value,
                        )


def leftovers(values):
    return sorted({(table, v) for table, cell in all_cells() for v in values if v in cell})


def complete_erasure(request, staff):
    with access_context(actor=staff, channel=Channel.ADMIN, purpose="complaints"):
        services.request_acknowledge(request=request, actor=staff)
        services.request_complete(request=request, actor=staff, response="Đã xoá")


def test_erasure_leaves_no_personal_value_in_any_table(support_user):
    customer, keep, request = build_history(support_user)
    assert leftovers(OLD_VALUES)  # the values are really there before
    history_before = customer.history.count()
    log_before = AccessLog.objects.filter(customer_id=customer.pk).count()

    complete_erasure(request, support_user)

    assert leftovers(OLD_VALUES) == []
    assert len(leftovers(KEPT_VALUES)) >= 3  # the other customer is untouched
    customer = Customer.objects.select_related("user").get(pk=customer.pk)
    assert customer.contact_person == "[erased]" and str(customer.phone) == ""
    assert customer.user.email == erased_email(customer.user_id)
    assert not customer.user.is_active and not customer.user.has_usable_password()
    assert customer.business_name == "Công ty Xoá"
    # The skeleton: every history row is still there (plus the erasure), with actor and reason.
    records = list(customer.history.order_by("history_date", "history_id"))
    assert len(records) == history_before + 1
    assert {r.contact_person for r in records} == {"[erased]"}
    assert records[1].history_user_id == customer.user_id
    assert records[1].history_change_reason == "correction"
    assert records[-1].history_user_id == support_user.pk
    assert records[-1].history_change_reason == f"erasure under request #{request.pk}"
    assert records[-1].history_purpose == "complaints"
    request.refresh_from_db()
    assert request.reason == "[erased]" and request.response == "[erased]"
    assert request.status == "completed"
    ledger = ErasureRecord.objects.get(customer_id=customer.pk)
    assert (ledger.request_id, ledger.approved_by_id) == (request.pk, support_user.pk)
    gate = GateUse.objects.get(kind="erasure")
    assert gate.approved_by_id == support_user.pk and str(request.pk) in gate.reason
    # Access-log rows stay, plus the erasure itself.
    assert AccessLog.objects.filter(customer_id=customer.pk).count() == log_before + 3
    assert AccessLog.objects.filter(customer_id=customer.pk, action="delete").get().actor_id == (
        support_user.pk
    )


def test_triggers_still_refuse_every_other_change_of_history(support_user):
    customer, _, request = build_history(support_user)
    complete_erasure(request, support_user)
    for model, flt in [
        (Customer.history.model, {"id": customer.pk}),
        (User.history.model, {"id": customer.user_id}),
        (DataSubjectRequest.history.model, {"id": request.pk}),
    ]:
        with pytest.raises(DatabaseError), transaction.atomic():
            model.objects.filter(**flt).update(history_change_reason="tampered")
        with pytest.raises(DatabaseError), transaction.atomic():
            model.objects.filter(**flt).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        ErasureRecord.objects.filter(customer_id=customer.pk).delete()


def test_erasure_is_idempotent(support_user):
    customer, _, request = build_history(support_user)
    complete_erasure(request, support_user)
    count = customer.history.count()
    with access_context(actor=support_user, channel=Channel.ADMIN, purpose="complaints"):
        customer_erase(customer=Customer.objects.get(pk=customer.pk), approved_by=support_user)
    assert customer.history.count() == count
    assert ErasureRecord.objects.count() == 1


def test_closing_an_account_erases_it(support_user, customer):
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        request = services.request_file(customer=customer, kind="closure", reason="")
    complete_erasure(request, support_user)
    assert ErasureRecord.objects.filter(customer_id=customer.pk).exists()
    assert not User.objects.get(pk=customer.user_id).is_active


def test_completing_other_kinds_erases_nothing(support_user, customer):
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        request = services.request_file(customer=customer, kind="access", reason="")
    complete_erasure(request, support_user)
    assert not ErasureRecord.objects.exists()
    assert Customer.objects.get(pk=customer.pk).contact_person == "Nguyễn Văn An"


@pytest.mark.django_db(transaction=True)
def test_replay_erasures_after_restoring_an_older_backup(tmp_path, reviewer, support_user):
    customer, keep, request = build_history(support_user)
    backup = tmp_path / "backup.json"
    call_command(
        "dumpdata",
        "--natural-foreign",
        "--exclude=contenttypes",
        "--exclude=auth.permission",
        "--exclude=sessions",
        "--exclude=audit",  # evidence tables: the restore keeps them (append-only)
        output=str(backup),
        verbosity=0,
    )
    complete_erasure(request, support_user)
    assert leftovers(OLD_VALUES) == []

    # Restore the older copy: empty database, load the backup (the ledger file survives).
    call_command("flush", interactive=False, verbosity=0)
    call_command("loaddata", str(backup), verbosity=0)
    assert leftovers(OLD_VALUES) != []
    assert not ErasureRecord.objects.exists()

    out = io.StringIO()
    call_command("replay_erasures", approved_by=reviewer.email, stdout=out)
    assert "1 erasures, 1 customers erased again" in out.getvalue()
    assert leftovers(OLD_VALUES) == []
    assert len(leftovers(KEPT_VALUES)) >= 3
    assert ErasureRecord.objects.get(customer_id=customer.pk).request_id == request.pk
    # A second replay finds nothing left to erase.
    out = io.StringIO()
    call_command("replay_erasures", approved_by=reviewer.email, stdout=out)
    assert "0 customers erased again, 0 rows rewritten" in out.getvalue()


def test_replay_needs_an_approving_reviewer(support_user):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("replay_erasures", approved_by=support_user.email)

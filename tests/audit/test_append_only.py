"""The database itself refuses UPDATE, DELETE and TRUNCATE on the audit tables."""

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from accounts.models import Customer
from audit.erasure import GateError, erasure_gate
from audit.models import GateUse, Seal
from audit.services import activity_record
from audit.triggers import has_append_only_triggers
from consent.access import access_record
from consent.context import Channel, access_context
from consent.models import AccessLog, ConsentRecord
from tests import factories
from tests.audit.helpers import assert_flush_refused

pytestmark = pytest.mark.django_db

STRICT = [
    "consent_accesslog",
    "consent_consentrecord",
    "audit_seal",
    "audit_verification",
    "audit_revieweractivity",
    "audit_gateuse",
    "audit_grantsnapshot",
]
HISTORY = ["accounts_historicalcustomer", "accounts_historicaluser"]
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="TRUNCATE and SET LOCAL exist on PostgreSQL only"
)


def refused(sql, params=()):
    """Return the database's error for ``sql``, failing the test if it was accepted."""
    with pytest.raises(DatabaseError, match="append-only") as info:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    return info.value


def change_sql(table):
    column = "id"
    return [f"UPDATE {table} SET {column} = {column}", f"DELETE FROM {table}"]


def test_every_protected_table_carries_the_triggers(customer):
    for table in STRICT + HISTORY:
        assert has_append_only_triggers(connection, table), table


def test_every_history_model_in_the_project_is_append_only():
    """A new HistoricalX table without triggers fails here: add audit.triggers.append_only()."""
    history = [m for m in apps.get_models() if m.__name__.startswith("Historical")]
    assert {m._meta.db_table for m in history} >= set(HISTORY)
    missing = [
        m._meta.db_table
        for m in history
        if not has_append_only_triggers(connection, m._meta.db_table)
    ]
    assert missing == []


@pytest.fixture
def audit_rows(customer, superuser, seal_wait):
    """One row in every protected table."""
    call_command("seal_audit_log", verbosity=0)
    call_command("verify_audit_log", verbosity=0)
    activity_record(actor=superuser, action="search", detail="customer=1")
    with erasure_gate(reason="DSR-1", approved_by=superuser):
        pass


@pytest.mark.parametrize("table", STRICT + HISTORY)
def test_update_and_delete_are_refused(audit_rows, table):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        before = cursor.fetchone()[0]
    assert before > 0
    for sql in change_sql(table):
        refused(sql)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        assert cursor.fetchone()[0] == before


@postgres_only
@pytest.mark.parametrize("table", STRICT + HISTORY)
def test_truncate_is_refused(audit_rows, table):
    with connection.cursor() as cursor:  # no deferred FK checks pending in the test transaction
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    refused(f"TRUNCATE {table} CASCADE")


def test_orm_paths_are_refused_too(customer):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccessLog.objects.all().delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ConsentRecord.objects.update(language="en")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Customer.history.all().delete()
    assert AccessLog.objects.count() == 1
    assert ConsentRecord.objects.get().language == "vi"


def test_flush_outside_the_test_suite_is_refused(customer, settings):
    assert_flush_refused(settings)
    assert AccessLog.objects.count() == 1


def test_the_erasure_gate_lets_history_values_be_blanked_and_records_itself(customer, superuser):
    history_id = customer.history.get().history_id
    with access_context(actor=superuser, channel=Channel.COMMAND, reference="DSR-42"):
        with erasure_gate(reason="Erasure request DSR-42", approved_by=superuser) as use:
            customer.history.filter(history_id=history_id).update(contact_person="", phone="")
    row = customer.history.get(history_id=history_id)
    assert (row.contact_person, str(row.phone)) == ("", "")
    gate = GateUse.objects.get()
    assert gate == use
    assert (gate.kind, gate.reason, gate.approved_by_id, gate.actor_id) == (
        "erasure",
        "Erasure request DSR-42",
        superuser.pk,
        superuser.pk,
    )


def test_the_gate_closes_when_the_block_ends(customer, superuser):
    with transaction.atomic():
        with erasure_gate(reason="DSR-43", approved_by=superuser):
            pass
        refused("UPDATE accounts_historicalcustomer SET contact_person = ''")


def test_the_erasure_gate_never_allows_delete_or_other_tables(customer, superuser):
    with erasure_gate(reason="DSR-44", approved_by=superuser):
        refused("DELETE FROM accounts_historicalcustomer")
        refused("UPDATE consent_accesslog SET purpose = 'x'")
        refused("DELETE FROM consent_consentrecord")
        refused("UPDATE audit_gateuse SET reason = 'nothing to see'")
    assert GateUse.objects.get().reason == "DSR-44"


def test_the_gate_needs_a_reason_and_an_approver(superuser):
    with pytest.raises(GateError):
        with erasure_gate(reason="  ", approved_by=superuser):
            pass
    with pytest.raises(GateError):
        with erasure_gate(reason="DSR-45", approved_by=None):
            pass
    assert not GateUse.objects.exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_forged_setting_without_a_gate_row_of_this_transaction_is_refused():
    superuser = factories.make_staff(email="root@excelcrm.example", superuser=True)
    with erasure_gate(reason="DSR-46", approved_by=superuser) as use:
        pass
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('excelcrm.gate', %s, true)", [str(use.pk)])
        refused("UPDATE accounts_historicaluser SET email = ''")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('excelcrm.gate', '999999', true)")
        refused("UPDATE accounts_historicaluser SET email = ''")


@pytest.mark.django_db(transaction=True)
def test_transactional_tests_still_flush_the_audit_tables(seal_wait):
    """pytest-django flushes after this test; the next test sees empty tables again."""
    with access_context(actor=None, channel=Channel.COMMAND):
        access_record(subjects=[1, 2], action="view")
    call_command("seal_audit_log", verbosity=0)
    assert Seal.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_previous_flush_went_through():
    assert not AccessLog.objects.exists()
    assert not Seal.objects.exists()
    assert not GateUse.objects.exists()


class _RecordingSchemaEditor:
    """Collects the statements a migration operation would run."""

    def __init__(self):
        self.connection = connection
        self.statements = []

    def execute(self, sql, params=None):
        self.statements.append(sql)


def _reverse_statements(migration_module: str) -> list[str]:
    import importlib

    from django.apps import apps

    editor = _RecordingSchemaEditor()
    for operation in importlib.import_module(migration_module).Migration.operations:
        if hasattr(operation, "reverse_code") and operation.reverse_code is not None:
            operation.reverse_code(apps, editor)
    return editor.statements


def test_reversing_a_reinstall_leaves_the_ledger_append_only():
    # rights 0006 re-installs the erasure ledger's triggers; reversing it must not drop what
    # rights 0003 installed (and which stays while 0003 stands).
    assert not any(
        "DROP TRIGGER" in sql
        for sql in _reverse_statements("rights.migrations.0006_erasure_subject_times")
    )
    assert any(
        "DROP TRIGGER" in sql and "rights_erasurerecord" in sql
        for sql in _reverse_statements("rights.migrations.0003_append_only")
    )

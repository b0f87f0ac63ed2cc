"""A role with only INSERT and SELECT on the audit tables cannot change or unprotect them."""

import uuid

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from audit.dbroles import grant_statements, protected_tables

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite has no roles or privileges: the file's owner can do anything",
    ),
]


@pytest.fixture
def portal_role(customer):
    """A fresh role with the grants README documents; created and dropped inside the test."""
    role = f"excelcrm_test_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{role}" NOLOGIN')
        for statement in grant_statements(connection, role=role):
            cursor.execute(statement)
    yield role  # the test's transaction is rolled back: the role disappears with it


def as_role(role, sql):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{role}"')
        cursor.execute(sql)
        return cursor.fetchall() if cursor.description else None


def refused(role, sql, message):
    with pytest.raises(DatabaseError, match=message):
        as_role(role, sql)


def test_every_append_only_table_is_covered():
    tables = dict(protected_tables(connection))
    assert tables["consent_accesslog"] is False
    assert tables["accounts_historicalcustomer"] is True
    assert {"audit_seal", "consent_consentrecord", "accounts_historicaluser"} <= set(tables)


@pytest.mark.parametrize(
    "table",
    ["consent_accesslog", "consent_consentrecord", "accounts_historicalcustomer", "audit_seal"],
)
def test_the_portal_role_cannot_change_or_unprotect_audit_tables(portal_role, table):
    refused(portal_role, f"UPDATE {table} SET id = id", "permission denied")
    refused(portal_role, f"DELETE FROM {table}", "permission denied")
    refused(portal_role, f"TRUNCATE {table}", "permission denied")
    refused(portal_role, f"ALTER TABLE {table} DISABLE TRIGGER USER", "must be owner")
    refused(portal_role, f"DROP TRIGGER audit_append_only_row ON {table}", "must be owner")


def test_the_portal_role_can_insert_and_read(portal_role):
    as_role(
        portal_role,
        "INSERT INTO consent_accesslog (at, customer_id, purpose, reference, action, fields,"
        " channel, request_id, outcome) VALUES (now(), 1, 'complaints', '', 'view', '',"
        " 'admin', 'r', 'allowed')",
    )
    assert as_role(portal_role, "SELECT count(*) FROM consent_accesslog") == [(2,)]
    assert as_role(portal_role, "SELECT count(*) FROM accounts_historicalcustomer") == [(1,)]


def test_the_portal_role_keeps_full_rights_on_ordinary_tables(portal_role):
    assert as_role(portal_role, "UPDATE accounts_customer SET phone = phone RETURNING id")


def test_audit_grants_prints_the_statements(capsys):
    call_command("audit_grants", role="excelcrm_app")
    out = capsys.readouterr().out
    assert 'REVOKE UPDATE, DELETE, TRUNCATE ON "consent_accesslog" FROM "excelcrm_app";' in out
    assert "GRANT UPDATE ON" not in out
    call_command("audit_grants", role="excelcrm_app", allow_erasure=True)
    assert 'GRANT UPDATE ON "accounts_historicalcustomer" TO "excelcrm_app";' in (
        capsys.readouterr().out
    )

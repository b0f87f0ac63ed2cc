"""The PostgreSQL role the portal should run under: it cannot change or disable the audit tables.

The tables are owned by the role that runs migrations. The portal's role gets full rights on
ordinary tables but only SELECT and INSERT on the append-only ones, so it can neither UPDATE,
DELETE or TRUNCATE them (permission denied) nor ``ALTER TABLE ... DISABLE TRIGGER`` (must be
owner). ``python manage.py audit_grants --role excelcrm_app`` prints the statements.
"""

from __future__ import annotations

from typing import Any

from .triggers import PG_ROW_TRIGGER


def protected_tables(connection: Any) -> list[tuple[str, bool]]:
    """Return (table, erasable) for every table carrying the append-only triggers."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, encode(t.tgargs, 'escape') FROM pg_trigger t"
            " JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname = %s ORDER BY c.relname",
            [PG_ROW_TRIGGER],
        )
        return [(name, args.startswith("erasable")) for name, args in cursor.fetchall()]


def grant_statements(connection: Any, *, role: str, allow_erasure: bool = False) -> list[str]:
    """Return the GRANT/REVOKE statements for the portal's role ``role`` (which must exist)."""
    quoted = connection.ops.quote_name(role)
    statements = [
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        f"GRANT pg_read_all_stats TO {quoted}",
    ]
    for table, erasable in protected_tables(connection):
        statements.append(f'REVOKE UPDATE, DELETE, TRUNCATE ON "{table}" FROM {quoted}')
        if allow_erasure and erasable:
            # Erasure of personal values in history: the trigger still refuses any UPDATE
            # outside audit.erasure.erasure_gate.
            statements.append(f'GRANT UPDATE ON "{table}" TO {quoted}')
    return statements

"""Append-only tables, enforced by the database.

Each protected table refuses UPDATE, DELETE and TRUNCATE:
- PostgreSQL: a row-level ``BEFORE UPDATE OR DELETE`` trigger and a statement-level
  ``BEFORE TRUNCATE`` trigger, both calling ``audit_refuse_change()``, which raises;
- SQLite: ``BEFORE UPDATE`` and ``BEFORE DELETE`` triggers with ``RAISE(ABORT, ...)`` (SQLite has
  no TRUNCATE; ``DELETE FROM t`` fires the DELETE trigger).

The one sanctioned way through is the gate opened by ``audit.erasure.erasure_gate`` (see there):
on PostgreSQL the trigger function lets a change pass only when the transaction-local setting
``excelcrm.gate`` names a ``audit_gateuse`` row written by the same transaction; on SQLite the
triggers ask the connection function ``excelcrm_gate_allows()``, which reads the gate opened in this
thread. Erasure gates let UPDATE through on ``erasable`` (history) tables only.

Other apps protect their new tables from their own migrations::

    from audit.triggers import append_only

    class Migration(migrations.Migration):
        dependencies = [("audit", "0002_append_only"), ("devices", "0001_initial")]
        operations = [*append_only("devices_historicaldevicepermission", erasable=True)]
"""

from __future__ import annotations

import threading
from typing import Any

from django.db import migrations

PG_FUNCTION = "audit_refuse_change"
PG_ROW_TRIGGER = "audit_append_only_row"
PG_TRUNCATE_TRIGGER = "audit_append_only_truncate"
SQLITE_FUNCTION = "excelcrm_gate_allows"

PG_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    gate text := coalesce(current_setting('excelcrm.gate', true), '');
BEGIN
    -- The sanctioned path: a gate opened by audit.erasure in this very transaction, recorded in
    -- audit_gateuse. Erasure gates allow UPDATE of history tables only; the test-flush gate
    -- exists only in test databases (pytest flushes them between transactional tests).
    IF gate <> '' AND EXISTS (
        SELECT 1 FROM audit_gateuse g
        WHERE g.id::text = gate
          AND g.txid = pg_current_xact_id()::text::bigint
          AND (
            (g.kind = 'erasure' AND TG_OP = 'UPDATE' AND TG_ARGV[0] = 'erasable')
            OR (g.kind = 'test_flush' AND current_database() LIKE 'test\\_%')
          )
    ) THEN
        IF TG_LEVEL = 'STATEMENT' THEN
            RETURN NULL;
        ELSIF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'append-only table %: % refused', TG_TABLE_NAME, TG_OP
        USING HINT = 'Audit tables never change; erasure goes through audit.erasure.erasure_gate.';
END
$$;
"""


def _mode(erasable: bool) -> str:
    return "erasable" if erasable else "strict"


def install_sql(vendor: str, table: str, *, erasable: bool = False) -> list[str]:
    """Return the statements that make ``table`` append-only on ``vendor``."""
    mode = _mode(erasable)
    if vendor == "postgresql":
        return [
            f'DROP TRIGGER IF EXISTS {PG_ROW_TRIGGER} ON "{table}"',
            f'DROP TRIGGER IF EXISTS {PG_TRUNCATE_TRIGGER} ON "{table}"',
            f'CREATE TRIGGER {PG_ROW_TRIGGER} BEFORE UPDATE OR DELETE ON "{table}" '
            f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}('{mode}')",
            f'CREATE TRIGGER {PG_TRUNCATE_TRIGGER} BEFORE TRUNCATE ON "{table}" '
            f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}('{mode}')",
        ]
    if vendor == "sqlite":
        statements = []
        for op, short in (("UPDATE", "upd"), ("DELETE", "del")):
            name = f"audit_ao_{short}_{table}"
            statements += [
                f'DROP TRIGGER IF EXISTS "{name}"',
                f'CREATE TRIGGER "{name}" BEFORE {op} ON "{table}" '
                f"WHEN NOT {SQLITE_FUNCTION}('{op}', '{mode}') "
                f"BEGIN SELECT RAISE(ABORT, 'append-only table {table}: {op} refused'); END",
            ]
        return statements
    raise NotImplementedError(f"append-only triggers are not written for {vendor}")


def uninstall_sql(vendor: str, table: str) -> list[str]:
    """Return the statements that remove the append-only triggers of ``table``."""
    if vendor == "postgresql":
        return [
            f'DROP TRIGGER IF EXISTS {PG_ROW_TRIGGER} ON "{table}"',
            f'DROP TRIGGER IF EXISTS {PG_TRUNCATE_TRIGGER} ON "{table}"',
        ]
    return [f'DROP TRIGGER IF EXISTS "audit_ao_{short}_{table}"' for short in ("upd", "del")]


def _run(schema_editor: Any, statements: list[str]) -> None:
    for statement in statements:
        schema_editor.execute(statement, None)


def append_only(
    table: str, *, erasable: bool = False, reinstall: bool = False
) -> list[migrations.RunPython]:
    """Return the migration operations that make ``table`` append-only on either database.

    ``erasable=True`` for simple-history tables of personal data: the erasure gate may UPDATE
    their rows (to blank personal values), never DELETE or TRUNCATE them. ``reinstall=True`` for
    a later migration that only installs the triggers again (idempotent): reversing it leaves
    them in place, since the migration that first installed them still stands. The migration
    using this must depend on ``("audit", "0002_append_only")``.
    """

    def forwards(apps: Any, schema_editor: Any) -> None:
        _run(schema_editor, install_sql(schema_editor.connection.vendor, table, erasable=erasable))

    def backwards(apps: Any, schema_editor: Any) -> None:
        _run(schema_editor, uninstall_sql(schema_editor.connection.vendor, table))

    reverse = migrations.RunPython.noop if reinstall else backwards
    return [migrations.RunPython(forwards, reverse, elidable=False)]


def gate_function_operations() -> list[migrations.RunPython]:
    """Return the operations creating the PostgreSQL trigger function (once, in audit)."""

    def forwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(PG_FUNCTION_SQL, None)

    def backwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}() CASCADE", None)

    return [migrations.RunPython(forwards, backwards, elidable=False)]


def has_append_only_triggers(connection: Any, table: str) -> bool:
    """Return True when ``table`` carries every append-only trigger on this connection."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND tgenabled <> 'D'",
                [f'"{table}"'],
            )
            names = {row[0] for row in cursor.fetchall()}
            return {PG_ROW_TRIGGER, PG_TRUNCATE_TRIGGER} <= names
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table]
        )
        names = {row[0] for row in cursor.fetchall()}
        return {f"audit_ao_upd_{table}", f"audit_ao_del_{table}"} <= names


# The gate as the SQLite triggers see it: set by audit.erasure in this thread only.
gate_state = threading.local()


def _sqlite_gate_allows(op: str, mode: str) -> int:
    kind = getattr(gate_state, "kind", None)
    if kind == "test_flush":
        return 1
    return int(kind == "erasure" and op == "UPDATE" and mode == "erasable")


def register_sqlite_gate_function(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Give each new SQLite connection the function its append-only triggers call."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_FUNCTION, 2, _sqlite_gate_allows)

"""Test helpers for tampering with audit tables behind the triggers' back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

from audit.triggers import install_sql, uninstall_sql


@contextmanager
def triggers_disabled(table: str, *, erasable: bool = False) -> Iterator[None]:
    """Let raw SQL edit ``table`` (as a table owner could), then put the triggers back."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        else:
            for statement in uninstall_sql("sqlite", table):
                cursor.execute(statement)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
            else:
                for statement in install_sql("sqlite", table, erasable=erasable):
                    cursor.execute(statement)


def assert_flush_refused(settings) -> None:
    """Run Django's own ``flush`` (the test suite's gate closed); the triggers must refuse it."""
    import pytest
    from django.core.management import CommandError, call_command
    from django.db import transaction

    settings.AUDIT_FLUSH_THROUGH_GATE = False
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # no deferred FK checks pending in this transaction
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(CommandError) as info, transaction.atomic():
        call_command("flush", interactive=False, verbosity=0)
    assert "append-only" in str(info.value.__cause__)

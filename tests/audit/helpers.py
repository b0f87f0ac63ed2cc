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

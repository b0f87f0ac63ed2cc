"""``flush`` that passes the append-only triggers in the test suite only.

pytest-django empties the test database after transactional and live-server tests with
``flush``; the audit tables refuse that, so in the test suite (``AUDIT_FLUSH_THROUGH_GATE``, set by
``tests/conftest.py``; the PostgreSQL trigger also insists on a ``test_`` database) the flush runs
through the gate. Anywhere else it behaves exactly like Django's, and the triggers refuse it.
"""

from typing import Any

from django.conf import settings
from django.core.management.commands import flush

from audit.erasure import test_flush_gate


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        if not getattr(settings, "AUDIT_FLUSH_THROUGH_GATE", False):
            return super().handle(**options)
        with test_flush_gate(using=options["database"]):
            return super().handle(**options)

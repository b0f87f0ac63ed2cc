"""Print the SQL that gives the portal's PostgreSQL role INSERT/SELECT only on audit tables."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from audit.dbroles import grant_statements


class Command(BaseCommand):
    help = "Print GRANT/REVOKE statements for the portal's database role (PostgreSQL)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--role", required=True, help="The role the portal connects as.")
        parser.add_argument(
            "--allow-erasure",
            action="store_true",
            help="Also grant UPDATE on history tables (still gated by the erasure trigger).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("Database roles apply to PostgreSQL only.")
        for statement in grant_statements(
            connection, role=options["role"], allow_erasure=options["allow_erasure"]
        ):
            self.stdout.write(statement + ";")

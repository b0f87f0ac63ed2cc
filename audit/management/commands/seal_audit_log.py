"""Seal the access-log rows written since the last seal (run it every few minutes)."""

from typing import Any

from django.core.management.base import BaseCommand

from audit.sealing import seal_audit_log


class Command(BaseCommand):
    help = "Seal the access-log rows written since the last seal (SHA-256, chained)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--wait",
            type=float,
            default=None,
            help="Seconds to wait for older open transactions (default AUDIT_SEAL_WAIT_SECONDS).",
        )
        parser.add_argument(
            "--max-rows", type=int, default=None, help="Seal at most this many rows in this run."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = seal_audit_log(wait_seconds=options["wait"], max_rows=options["max_rows"])
        if result.seal is None:
            self.stdout.write(f"Nothing sealed: {result.reason}.")
            return
        seal = result.seal
        self.stdout.write(
            f"Sealed rows {seal.first_id}..{seal.last_id} ({seal.row_count} rows) "
            f"as seal #{seal.pk}; head digest {seal.digest}"
        )

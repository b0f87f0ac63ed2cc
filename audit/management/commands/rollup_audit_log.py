"""Roll up the access log's final hours for the reports (run it after each seal)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.rollup import rollup_audit_log


class Command(BaseCommand):
    help = (
        "Roll up the access log's final hours (rows per chart series, staff use per actor) for "
        "the reports; --rebuild recomputes every hour."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--rebuild", action="store_true", help="Delete the hourly figures and recompute them."
        )
        parser.add_argument(
            "--max-days", type=int, default=None, help="Roll up at most this many days this run."
        )

    def _check_max_days(self, value: int | None) -> None:
        if value is not None and value < 1:
            raise CommandError("--max-days must be at least 1.")

    def handle(self, *args: Any, **options: Any) -> None:
        self._check_max_days(options["max_days"])
        result = rollup_audit_log(rebuild=options["rebuild"], max_days=options["max_days"])
        through = f"{result.through:%Y-%m-%d %H:%M} UTC" if result.through else "nothing yet"
        line = f"Rolled up {result.hours} hours ({result.rows} hourly rows); figures "
        line += f"until {through}"
        self.stdout.write(f"{line} ({result.reason})." if result.reason else f"{line}.")

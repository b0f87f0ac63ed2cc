"""Email renewal notices to customers whose licence expires soon (run daily from cron)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from notices.parallel import send_in_parallel
from notices.reporting import write_summary
from notices.services import parse_windows, renewal_notices_send


class Command(BaseCommand):
    help = (
        "Email a renewal notice, once, to every customer whose active licence expires within one"
        " of the given numbers of days."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--days",
            default="",
            help="Days before expiry, comma-separated (default: RENEWAL_NOTICE_DAYS, 30,7,1).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be sent; send nothing."
        )
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="Send from this many processes at once (each takes a disjoint share).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            windows = parse_windows(options["days"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        workers = options["workers"]
        if not 1 <= workers <= 16:
            raise CommandError("--workers must be between 1 and 16.")
        if workers == 1 or options["dry_run"]:
            summary = renewal_notices_send(
                windows=windows, dry_run=options["dry_run"], progress=not options["no_progress"]
            )
        else:
            summary = send_in_parallel(
                windows=windows, workers=workers, progress=not options["no_progress"]
            )
        write_summary(self.stdout, summary)

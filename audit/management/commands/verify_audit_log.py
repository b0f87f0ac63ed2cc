"""Recompute every seal; exit non-zero naming the first seal whose rows were altered."""

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import get_current_timezone, is_naive, make_aware

from audit.sealing import verification_record, verify_seals
from consent.context import Channel


def _since(value: str) -> datetime.datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"--since {value!r}: use YYYY-MM-DD or an ISO date-time.")
        parsed = datetime.datetime.combine(day, datetime.time())
    return make_aware(parsed, get_current_timezone()) if is_naive(parsed) else parsed


class Command(BaseCommand):
    help = "Verify the access-log seals; exits 1 naming the first bad seal."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--since",
            type=_since,
            default=None,
            help="Only seals made at or after this date/time (local time if no offset).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify_seals(since=options["since"])
        verification_record(
            result=result, actor=None, channel=Channel.COMMAND, since=options["since"]
        )
        if not result.ok:
            raise CommandError(
                f"TAMPERED: first bad seal #{result.first_bad.pk} "
                f"(rows {result.first_bad.first_id}..{result.first_bad.last_id}): {result.problem}",
                returncode=1,
            )
        self.stdout.write(
            f"OK: {result.seals_checked} seals, {result.rows_checked} rows verified; "
            f"head digest {result.head_digest or '(no seals yet)'}"
        )

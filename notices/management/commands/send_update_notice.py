"""Send an update notice (announcement) to its audience; ``--queued`` sends every queued one."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from notices.models import Announcement
from notices.reporting import write_summary
from notices.services import update_notice_send


class Command(BaseCommand):
    help = "Email an update notice to its audience, once per customer (rerun to retry failures)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("ids", nargs="*", type=int, help="Update notice ids.")
        parser.add_argument(
            "--queued", action="store_true", help="Send every update notice queued in the admin."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be sent; send nothing."
        )
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        ids = options["ids"]
        if not ids and not options["queued"]:
            raise CommandError("Give update notice ids or --queued.")
        announcements = list(Announcement.objects.filter(pk__in=ids)) if ids else []
        missing = set(ids) - {a.pk for a in announcements}
        if missing:
            raise CommandError(f"No update notice with id {', '.join(map(str, sorted(missing)))}.")
        if options["queued"]:
            announcements += list(
                Announcement.objects.filter(state=Announcement.State.QUEUED).order_by("pk")
            )
        for announcement in announcements:
            self.stdout.write(f"#{announcement.pk} {announcement.subject_en}")
            try:
                summary = update_notice_send(
                    announcement=announcement,
                    dry_run=options["dry_run"],
                    progress=not options["no_progress"],
                )
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
            write_summary(self.stdout, summary)

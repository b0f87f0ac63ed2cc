"""Re-apply every erasure of the ledger, after a database backup was restored."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.normalize import email_equals
from consent.context import Channel, access_context
from rights.erasure import erasures_replay, ledger_path


class Command(BaseCommand):
    help = (
        "Re-apply the erasures listed in the erasure ledger (the ledger file outside the database "
        "and the ledger table). Run it after every restore of a backup. Idempotent."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--approved-by",
            required=True,
            help="Email of the superuser or compliance reviewer who approves the replay.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        approver = User.objects.filter(email_equals("email", options["approved_by"])).first()
        if approver is None or not (
            approver.is_superuser or approver.groups.filter(name="Compliance reviewer").exists()
        ):
            raise CommandError("--approved-by must name a superuser or compliance reviewer.")
        with access_context(
            actor=approver, channel=Channel.COMMAND, reason="replay of erasures after a restore"
        ):
            counts = erasures_replay(approved_by=approver)
        self.stdout.write(
            f"Ledger {ledger_path()}: {counts['entries']} erasures, "
            f"{counts['customers']} customers erased again, {counts['rows']} rows rewritten."
        )
        if counts["absent"]:
            self.stdout.write(f"{counts['absent']} erased customers are not in the database.")
        if counts["lines_restored"]:
            self.stdout.write(
                f"{counts['lines_restored']} ledger lines missing from the file were written "
                "from the ledger table."
            )
        if counts["mismatched"]:
            ids = ", ".join(str(pk) for pk in counts["mismatched"])
            self.stdout.write(
                self.style.WARNING(
                    f"Not erased: {len(counts['mismatched'])} ids now belong to another customer "
                    f"than the one erased (signed up after the backup): customer ids {ids}."
                )
            )

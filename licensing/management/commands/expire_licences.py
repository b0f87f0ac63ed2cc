"""Store ``expired`` on active licences whose date has passed (run daily, after midnight)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from consent.context import Channel, access_context
from licensing.services import PURPOSE, licences_expire
from licensing.work import system_actor


class Command(BaseCommand):
    help = "Mark active licences whose expiry date has passed as expired."

    def handle(self, *args: Any, **options: Any) -> None:
        actor = system_actor()
        with access_context(
            actor=actor, channel=Channel.COMMAND, purpose=PURPOSE, reason="expiry date passed"
        ):
            count = licences_expire()
        self.stdout.write(_("Licences expired: %(count)d") % {"count": count})

"""Django's createsuperuser, run inside an access context (channel ``command``).

Creating a login writes personal data (the email), which needs an open access context.
"""

from typing import Any

from django.contrib.auth.management.commands import createsuperuser

from consent.context import Channel, access_context


class Command(createsuperuser.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        with access_context(actor=None, channel=Channel.COMMAND, reason="createsuperuser"):
            super().handle(*args, **options)

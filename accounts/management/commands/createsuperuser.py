"""Django's createsuperuser, run inside an access context (channel ``command``).

Creating a login writes personal data (the email), which needs an open access context. The
password is validated as a staff member's (at least 10 characters) in both modes, with and
without ``--noinput``; a password that fails is never stored, whatever the prompt answered.
"""

from typing import Any

from django.contrib.auth.management.commands import createsuperuser
from django.db import transaction

from consent.context import Channel, access_context
from security.validators import creating_staff


class Command(createsuperuser.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        with (
            access_context(actor=None, channel=Channel.COMMAND, reason="createsuperuser"),
            transaction.atomic(using=options["database"]),
            creating_staff(),
        ):
            super().handle(*args, **options)

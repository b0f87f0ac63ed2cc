"""A mail backend that fails for chosen recipients, like an SMTP server refusing mid-run."""

from django.core import mail
from django.core.mail.backends.locmem import EmailBackend


class FailingBackend(EmailBackend):
    fail_for: set[str] = set()

    def send_messages(self, messages):
        for message in messages:
            if set(message.to) & self.fail_for:
                raise ConnectionError("SMTP server went away")
        return super().send_messages(messages)


def outbox_to(address: str) -> list:
    return [m for m in mail.outbox if address in m.to]

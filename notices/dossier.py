"""The notices' lines in a customer's dossier (``audit.timeline``): every email sent or tried.

Template, language, purpose, status and time, from ``notices.selectors.notices_for_customer``;
never the body, which is not stored. Renewal and update notices come from the sending runs (the
system account, channel ``command``); single messages of ``notices.outbox`` (password reset,
email confirmation, breach notification) name no sender: their callers logged the access.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _

from .selectors import notices_for_customer


def notice_events(customer: Any, *, limit: int) -> Iterator[Any]:
    """Yield the customer's newest ``limit`` notices."""
    from audit.timeline import TimelineEvent

    for notice in notices_for_customer(customer=customer).order_by("-claimed_at", "-id")[:limit]:
        if notice.licence_id:
            what = _("renewal notice for licence #%(licence)s, %(days)s days before %(date)s") % {
                "licence": notice.licence_id,
                "days": notice.window_days,
                "date": notice.licence_expires_on.strftime("%d/%m/%Y"),
            }
        elif notice.announcement_id:
            what = _("update notice #%(id)s") % {"id": notice.announcement_id}
        else:
            what = notice.template
        summary = _("%(what)s; template %(template)s (%(language)s); attempts %(attempts)s") % {
            "what": what,
            "template": notice.template,
            "language": notice.language,
            "attempts": notice.attempts,
        }
        from_run = bool(notice.run_id)
        yield TimelineEvent(
            at=notice.sent_at or notice.claimed_at,
            source="notices",
            kind=notice.get_status_display(),
            summary=summary,
            actor=_("system account (scheduled commands)") if from_run else "",
            purpose=notice.purpose,
            channel="command" if from_run else "",
            extra={"template": notice.template, "status": notice.status},
        )

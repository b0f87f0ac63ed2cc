"""Renewal notices and update notices: the work of ``renewal_notices`` and ``update_notices``.

Both send through ``notices.sending`` (exactly-once claims, batched marking and access logging)
as the system account. Customers who withdrew consent to the purpose, and customers under a
data-subject restriction (a registered access veto:
``consent.vetoes.vetoed_customer_ids``), are skipped and counted; so are notices an
earlier run already sent. Message bodies hold only what their purpose needs: the contact
person's name for the greeting, and for renewals the plan and its expiry date. The rendered body
is never stored; the ``Notice`` row records recipient, template, purpose, time and status.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterator, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Mod
from django.template.loader import get_template
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Customer
from consent.selectors import consent_filter_allowed
from consent.vetoes import vetoed_customer_ids
from licensing.models import Licence

from .mail import NoticeMessage
from .models import Announcement, Notice
from .sending import RENEWAL_KEY, UPDATE_KEY, Recipient, RunSummary, deliver, new_run_id

RENEWAL_PURPOSE = "renewal_notices"
UPDATE_PURPOSE = "update_notices"
RENEWAL_TEMPLATE = "notices/email/renewal_notice"
UPDATE_TEMPLATE = "notices/email/update_notice"
# The personal fields each kind of notice uses, as named in its access-log rows.
RENEWAL_FIELDS = ("contact_person", "email", "licence")
UPDATE_FIELDS = ("contact_person", "email")


def _language(code: str) -> str:
    return "en" if (code or "").startswith("en") else "vi"


@functools.lru_cache(maxsize=32)
def _template(name: str) -> Any:
    return get_template(name)


# Stands for the contact person's name while a message is rendered once per distinct rest of the
# context; names never hold control characters (accounts.normalize), so it cannot clash.
_NAME = "\x00contact_person\x00"


@functools.lru_cache(maxsize=256)
def _render_shared(template: str, language: str, items: tuple[tuple[str, Any], ...]):
    context = {**dict(items), "contact_person": _NAME}
    subject = _template(f"{template}_subject.{language}.txt").render(context)
    body = _template(f"{template}.{language}.txt").render(context)
    return " ".join(subject.split()), body


def _render(template: str, language: str, context: dict[str, Any]) -> tuple[str, str]:
    """Return the subject and body of ``template`` in ``language`` for ``context``.

    Everything but the name is the same for every recipient of a batch (plan, date, text), so
    the vi/en template is rendered once per distinct rest and the name put in its place.
    """
    items = tuple(sorted((k, v) for k, v in context.items() if k != "contact_person"))
    subject, body = _render_shared(template, language, items)
    return subject, body.replace(_NAME, str(context.get("contact_person", "")))


# --- renewal notices -----------------------------------------------------------------------


def parse_windows(text: str | Sequence[int] | None) -> list[int]:
    """Return the sorted notice windows from ``"30,7,1"`` (default: ``RENEWAL_NOTICE_DAYS``)."""
    if text is None or text == "":
        values = list(settings.RENEWAL_NOTICE_DAYS)
    elif isinstance(text, str):
        try:
            values = [int(part) for part in text.split(",") if part.strip()]
        except ValueError as exc:
            raise ValidationError(
                _("Give the days as whole numbers separated by commas, for example 30,7,1.")
            ) from exc
    else:
        values = list(text)
    if not values or any(value < 0 or value > 366 for value in values):
        raise ValidationError(_("Each number of days must be between 0 and 366."))
    return sorted(set(values))


def renewal_due(*, windows: Sequence[int], today: datetime.date) -> QuerySet[Licence]:
    """Return active licences expiring within the largest window, annotated with their window.

    A licence's window is the smallest one it falls in (7 days left with windows 30,7,1: 7), so
    a run that was missed on the exact day still sends the notice the next day.
    """
    windows = sorted(windows)
    whens = [
        When(expires_on__lte=today + datetime.timedelta(days=w), then=Value(w)) for w in windows
    ]
    return (
        Licence.objects.filter(
            status=Licence.Status.ACTIVE,
            expires_on__gte=today,
            expires_on__lte=today + datetime.timedelta(days=windows[-1]),
            customer__user__is_active=True,
        )
        .annotate(window=Case(*whens, output_field=IntegerField()))
        .annotate(
            already_sent=Exists(
                Notice.objects.filter(
                    licence=OuterRef("pk"),
                    licence_expires_on=OuterRef("expires_on"),
                    window_days=OuterRef("window"),
                    status=Notice.Status.SENT,
                )
            )
        )
    )


def renewal_notices_send(
    *,
    windows: Sequence[int],
    today: datetime.date | None = None,
    dry_run: bool = False,
    progress: bool = False,
    shard: tuple[int, int] = (0, 1),
) -> RunSummary:
    """Email every customer whose active licence expires within one of ``windows`` days.

    One notice per licence, term and window, ever (see ``notices.sending``); notices already
    sent, customers who withdrew consent to renewal notices and customers under a restriction
    are skipped and counted. With ``dry_run`` nothing is claimed, sent or logged: the summary says
    what a run would do. ``shard=(i, n)`` handles only the licences whose id is ``i`` modulo ``n``
    (parallel workers of one run).
    """
    today = today or timezone.localdate()
    summary = RunSummary(run_id=new_run_id(), dry_run=dry_run)
    in_windows = renewal_due(windows=windows, today=today)
    index, count = shard
    if count > 1:
        in_windows = in_windows.annotate(_shard=Mod("pk", count)).filter(_shard=index)
    summary.already_sent = in_windows.filter(already_sent=True).count()
    due = in_windows.filter(already_sent=False)
    allowed = _not_restricted(
        consent_filter_allowed(due, purpose_code=RENEWAL_PURPOSE, customer_field="customer"),
        customer_field="customer_id",
        purpose=RENEWAL_PURPOSE,
        summary=summary,
        total=due.count(),
    )
    if dry_run:
        summary.sent = summary.due
        return summary
    rows = allowed.order_by("pk").values_list(
        "pk",
        "customer_id",
        "expires_on",
        "window",
        "plan__name",
        "customer__contact_person",
        "customer__user__email",
        "customer__user__language",
    )
    return deliver(
        recipients=_renewal_recipients(rows.iterator(chunk_size=2000), summary.run_id, today),
        total=summary.due,
        run_id=summary.run_id,
        purpose=RENEWAL_PURPOSE,
        fields=RENEWAL_FIELDS,
        key=RENEWAL_KEY,
        build=_build,
        summary=summary,
        progress=progress,
    )


def _renewal_recipients(
    rows: Iterator[tuple], run_id: str, today: datetime.date
) -> Iterator[Recipient]:
    for pk, customer_id, expires_on, window, plan, contact, email, language in rows:
        language = _language(language)
        yield Recipient(
            claim={
                "customer_id": customer_id,
                "purpose": RENEWAL_PURPOSE,
                "template": RENEWAL_TEMPLATE,
                "language": language,
                "licence_id": pk,
                "licence_expires_on": expires_on,
                "window_days": window,
                "run_id": run_id,
            },
            email=email,
            context={
                "contact_person": contact,
                "plan": plan,
                # Formatted once here rather than by a template filter: d/m/Y in both languages.
                "expires_on": expires_on.strftime("%d/%m/%Y"),
                "days_left": (expires_on - today).days,
            },
        )


def _build(recipient: Recipient, connection: Any) -> EmailMessage:
    subject, body = _render(
        recipient.claim["template"], recipient.claim["language"], recipient.context
    )
    return NoticeMessage(subject, body, None, [recipient.email])


def _not_restricted(
    allowed: QuerySet, *, customer_field: str, purpose: str, summary: RunSummary, total: int
) -> QuerySet:
    """Return ``allowed`` without the customers an access veto forbids under ``purpose``.

    Counts in ``summary``: ``skipped_consent`` (``total`` rows due minus those allowed),
    ``skipped_restricted`` and ``due`` (what is left to send).
    """
    consenting = allowed.count()
    summary.skipped_consent = total - consenting
    ids = allowed.order_by().values_list(customer_field, flat=True).distinct()
    restricted = vetoed_customer_ids(list(ids), purpose=purpose) if consenting else set()
    if restricted:
        summary.skipped_restricted = allowed.filter(**{f"{customer_field}__in": restricted}).count()
        allowed = allowed.exclude(**{f"{customer_field}__in": restricted})
    summary.due = consenting - summary.skipped_restricted
    return allowed


# --- update notices ------------------------------------------------------------------------


def announcement_audience(*, announcement: Announcement) -> QuerySet[Customer]:
    """Return the customers an announcement is addressed to (active logins only)."""
    customers = Customer.objects.filter(user__is_active=True)
    today = timezone.localdate()
    if announcement.audience == Announcement.Audience.PLAN:
        return customers.filter(
            Exists(Licence.objects.filter(customer=OuterRef("pk"), plan=announcement.plan_id))
        )
    if announcement.audience == Announcement.Audience.LICENCE_STATUS:
        status = announcement.licence_status
        if status == Licence.Status.ACTIVE:
            match = Q(status=status, expires_on__gte=today)
        elif status == Licence.Status.EXPIRED:
            match = Q(status=status) | Q(status=Licence.Status.ACTIVE, expires_on__lt=today)
        else:
            match = Q(status=status)
        return customers.filter(Exists(Licence.objects.filter(match, customer=OuterRef("pk"))))
    return customers


def announcement_validate(announcement: Announcement) -> None:
    """Raise field errors when the audience lacks the plan or status it needs."""
    errors = {}
    if announcement.audience == Announcement.Audience.PLAN and not announcement.plan_id:
        errors["plan"] = _("Choose the plan whose customers should get this notice.")
    if (
        announcement.audience == Announcement.Audience.LICENCE_STATUS
        and not announcement.licence_status
    ):
        errors["licence_status"] = _("Choose the licence status of the customers to notify.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def announcement_queue(*, announcement: Announcement) -> Announcement:
    """Queue an announcement for ``send_update_notice --queued`` (the admin's send action)."""
    announcement_validate(announcement)
    announcement.state = Announcement.State.QUEUED
    announcement.save(update_fields=["state"])
    return announcement


def update_notice_send(
    *, announcement: Announcement, dry_run: bool = False, progress: bool = False
) -> RunSummary:
    """Email an announcement to its audience, exactly once per customer.

    Customers already sent this announcement, customers whose newest choice about
    ``update_notices`` is a withdrawal, and customers under a restriction are skipped and counted.
    A rerun sends only to those not yet sent (and retries failed ones). The announcement stays
    ``queued`` (so ``send_update_notice --queued`` tries again) while a notice to a customer still
    in the audience failed fewer than ``NOTICES_MAX_ATTEMPTS`` times or is still claimed; then it
    is ``sent``.
    """
    announcement_validate(announcement)
    summary = RunSummary(run_id=new_run_id(), dry_run=dry_run)
    sent_already = Exists(
        Notice.objects.filter(
            announcement=announcement, customer=OuterRef("pk"), status=Notice.Status.SENT
        )
    )
    everyone = announcement_audience(announcement=announcement)
    summary.already_sent = everyone.filter(sent_already).count()
    audience = everyone.exclude(sent_already)
    allowed = _not_restricted(
        consent_filter_allowed(audience, purpose_code=UPDATE_PURPOSE),
        customer_field="pk",
        purpose=UPDATE_PURPOSE,
        summary=summary,
        total=audience.count(),
    )
    if dry_run:
        summary.sent = summary.due
        return summary
    rows = allowed.order_by("pk").values_list(
        "pk", "contact_person", "user__email", "user__language"
    )
    deliver(
        recipients=_update_recipients(rows.iterator(chunk_size=2000), announcement, summary.run_id),
        total=summary.due,
        run_id=summary.run_id,
        purpose=UPDATE_PURPOSE,
        fields=UPDATE_FIELDS,
        key=UPDATE_KEY,
        build=_build,
        summary=summary,
        reference=f"announcement {announcement.pk}",
        progress=progress,
    )
    # Still to retry: a notice not sent to a customer who is still in the sendable audience,
    # tried fewer than NOTICES_MAX_ATTEMPTS times. A customer who withdrew consent or was
    # restricted after a failure, or an address that keeps failing, no longer keeps the
    # announcement queued (the failed notices stay listed in the admin).
    unfinished = (
        announcement.notices.exclude(status=Notice.Status.SENT)
        .filter(attempts__lt=settings.NOTICES_MAX_ATTEMPTS, customer__in=allowed.values("pk"))
        .exists()
    )
    announcement.state = Announcement.State.QUEUED if unfinished else Announcement.State.SENT
    update_fields = ["state"]
    if summary.sent:
        announcement.sent_at = timezone.now()
        update_fields.append("sent_at")
    announcement.save(update_fields=update_fields)
    return summary


def _update_recipients(
    rows: Iterator[tuple], announcement: Announcement, run_id: str
) -> Iterator[Recipient]:
    for customer_id, contact, email, language in rows:
        language = _language(language)
        yield Recipient(
            claim={
                "customer_id": customer_id,
                "purpose": UPDATE_PURPOSE,
                "template": UPDATE_TEMPLATE,
                "language": language,
                "announcement_id": announcement.pk,
                "run_id": run_id,
            },
            email=email,
            context={
                "contact_person": contact,
                "subject": announcement.subject_for(language),
                "text": announcement.body_for(language),
            },
        )


def announcement_preview(*, announcement: Announcement, language: str) -> tuple[str, str]:
    """Return the subject and body as a customer would get them, with a sample name."""
    language = _language(language)
    return _render(
        UPDATE_TEMPLATE,
        language,
        {
            "contact_person": _("(contact person)"),
            "subject": announcement.subject_for(language),
            "text": announcement.body_for(language),
        },
    )

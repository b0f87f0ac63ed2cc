"""Grant, extend, suspend, reinstate, cancel and expire licences: the work of ``licensing``.

Every service runs under the open access context, which must declare the purpose ``licensing``;
each change leaves a history row (actor, purpose, reference, reason from the context) and an
access-log row for the customer. A customer under a data-subject restriction is refused
(``licensing.work.Restricted``, with a ``denied`` row); the expiry run leaves their licences as
they are (they still show as expired: ``Licence.current_status``).
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Customer
from consent import access
from consent.vetoes import vetoed_customer_ids

from .models import Licence, Plan
from .work import require_not_vetoed, require_purpose

PURPOSE = "licensing"
# The licence fields named in access-log rows.
LICENCE_FIELDS = ("licence",)


def _record(licence: Licence, action: str) -> None:
    access.access_record(subjects=[licence.customer_id], action=action, fields=LICENCE_FIELDS)


@transaction.atomic
def licence_grant(
    *,
    customer: Customer,
    plan: Plan,
    seats: int | None = None,
    starts_on: datetime.date | None = None,
) -> Licence:
    """Grant ``customer`` a licence for ``plan`` from ``starts_on`` (default today)."""
    require_purpose(PURPOSE)
    require_not_vetoed(customer_id=customer.pk, action=access.Action.CREATE)
    starts_on = starts_on or timezone.localdate()
    licence = Licence(
        customer=customer,
        plan=plan,
        seats=seats or plan.seats,
        starts_on=starts_on,
        expires_on=starts_on + datetime.timedelta(days=plan.duration_days - 1),
        status=Licence.Status.ACTIVE,
    )
    licence.full_clean()
    licence.save()
    _record(licence, access.Action.CREATE)
    return licence


@transaction.atomic
def licence_extend(*, licence: Licence, days: int | None = None) -> Licence:
    """Add ``days`` (default: the plan's duration) to the licence and make it active again.

    An expired licence is extended from today, so the customer gets the whole period.
    A cancelled licence cannot be extended (grant a new one).
    """
    require_purpose(PURPOSE)
    require_not_vetoed(customer_id=licence.customer_id, action=access.Action.CHANGE)
    if licence.status == Licence.Status.CANCELLED:
        raise ValidationError(_("A cancelled licence cannot be extended; grant a new one."))
    days = days if days is not None else licence.plan.duration_days
    if days < 1:
        raise ValidationError({"days": _("Extend by at least one day.")})
    today = timezone.localdate()
    base = max(licence.expires_on, today - datetime.timedelta(days=1))
    licence.expires_on = base + datetime.timedelta(days=days)
    if licence.status == Licence.Status.EXPIRED:
        licence.status = Licence.Status.ACTIVE
    licence.save_tracked()
    _record(licence, access.Action.CHANGE)
    return licence


def _set_status(licence: Licence, status: str, allowed_from: tuple[str, ...]) -> Licence:
    require_purpose(PURPOSE)
    require_not_vetoed(customer_id=licence.customer_id, action=access.Action.CHANGE)
    if licence.status not in allowed_from:
        raise ValidationError(
            _("A licence that is %(status)s cannot become %(new)s.")
            % {"status": licence.get_status_display(), "new": Licence.Status(status).label}
        )
    licence.status = status
    licence.save_tracked()
    _record(licence, access.Action.CHANGE)
    return licence


@transaction.atomic
def licence_suspend(*, licence: Licence) -> Licence:
    """Suspend an active licence (the reason comes from the access context)."""
    return _set_status(licence, Licence.Status.SUSPENDED, (Licence.Status.ACTIVE,))


@transaction.atomic
def licence_reinstate(*, licence: Licence) -> Licence:
    """Make a suspended licence active again (expired if its date has passed)."""
    _set_status(licence, Licence.Status.ACTIVE, (Licence.Status.SUSPENDED,))
    if licence.current_status() == Licence.Status.EXPIRED:
        licence.status = Licence.Status.EXPIRED
        licence.save_tracked()
    return licence


@transaction.atomic
def licence_cancel(*, licence: Licence) -> Licence:
    """Cancel a licence for good (it can no longer be extended or reinstated)."""
    return _set_status(
        licence,
        Licence.Status.CANCELLED,
        (Licence.Status.ACTIVE, Licence.Status.SUSPENDED, Licence.Status.EXPIRED),
    )


@transaction.atomic
def licences_expire(*, today: datetime.date | None = None, batch_size: int = 1000) -> int:
    """Store ``expired`` on every active licence whose expiry date is before ``today``.

    One history row and one access-log row per licence; return the number expired. Licences of
    customers under a restriction are left as they are (a change of their data is processing).
    """
    require_purpose(PURPOSE)
    today = today or timezone.localdate()
    due = Licence.objects.filter(status=Licence.Status.ACTIVE, expires_on__lt=today).order_by("pk")
    restricted = vetoed_customer_ids(
        list(due.order_by().values_list("customer_id", flat=True).distinct()),
        purpose=PURPOSE,
    )
    if restricted:
        due = due.exclude(customer_id__in=restricted)
    count = 0
    while True:
        batch = list(due[:batch_size])
        if not batch:
            return count
        # One save per licence: consent.history.bulk_update_tracked trips over the tracked
        # queryset's update() guard, and a day's expiries are few.
        for licence in batch:
            licence.status = Licence.Status.EXPIRED
            licence.save_tracked()
        access.access_record(
            subjects=[licence.customer_id for licence in batch],
            action=access.Action.CHANGE,
            fields=LICENCE_FIELDS,
        )
        count += len(batch)

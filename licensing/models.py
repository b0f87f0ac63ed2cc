"""Plans and the licences customers hold."""

from __future__ import annotations

import datetime

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consent.history import PersonalHistory, TrackedModel


class Plan(models.Model):
    """What a licence grants: a duration and a number of seats. Not personal data."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    duration_days = models.PositiveIntegerField(
        _("duration (days)"), validators=[MinValueValidator(1)]
    )
    seats = models.PositiveIntegerField(_("seats"), validators=[MinValueValidator(1)])
    is_active = models.BooleanField(_("offered"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")

    def __str__(self) -> str:
        return self.name


class Licence(TrackedModel):
    """A customer's right to use a plan from ``starts_on`` until ``expires_on`` (inclusive).

    Written only by ``licensing.services``; every change leaves a history row with its purpose.
    An active licence whose expiry date has passed is shown as expired at once
    (``current_status``) and stored as expired by the ``expire_licences`` command.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        EXPIRED = "expired", _("expired")
        SUSPENDED = "suspended", _("suspended")
        CANCELLED = "cancelled", _("cancelled")

    customer = models.ForeignKey(
        "accounts.Customer",
        on_delete=models.PROTECT,
        related_name="licences",
        verbose_name=_("customer"),
    )
    plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, related_name="licences", verbose_name=_("plan")
    )
    seats = models.PositiveIntegerField(_("seats"), validators=[MinValueValidator(1)])
    starts_on = models.DateField(_("starts on"))
    expires_on = models.DateField(_("expires on"), db_index=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    created_at = models.DateTimeField(_("granted at"), default=timezone.now)

    history = PersonalHistory()

    class Meta:
        ordering = ["-expires_on", "-id"]
        verbose_name = _("licence")
        verbose_name_plural = _("licences")
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__gte=F("starts_on")),
                name="licensing_licence_expires_after_start",
                violation_error_message=_("The expiry date cannot be before the start date."),
            ),
            models.CheckConstraint(
                condition=Q(seats__gte=1),
                name="licensing_licence_seats_positive",
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_on"], name="licence_status_expiry")]

    def __str__(self) -> str:
        return f"{self.plan} #{self.pk}"

    def current_status(self, today: datetime.date | None = None) -> str:
        """Return the status as of ``today``: an active licence past its date is expired."""
        today = today or timezone.localdate()
        if self.status == self.Status.ACTIVE and self.expires_on < today:
            return self.Status.EXPIRED
        return self.status

    def get_current_status_display(self) -> str:
        return str(self.Status(self.current_status()).label)

    def days_left(self, today: datetime.date | None = None) -> int:
        return (self.expires_on - (today or timezone.localdate())).days

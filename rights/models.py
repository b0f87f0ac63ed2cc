"""Data-subject requests, the erasure ledger and the breach register."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consent.history import PersonalHistory, TrackedModel


class DataSubjectRequest(TrackedModel):
    """A customer's request to exercise one of their rights, with its legal clocks.

    ``reason`` (the customer's words), ``response`` (staff's answer) and ``extension_reason``
    (staff's words about the customer's case) are personal data: they are replaced by the
    erasure marker when the customer's data is erased.
    """

    PERSONAL_FIELDS = ("reason", "response", "extension_reason")

    class Kind(models.TextChoices):
        ACCESS = "access", _("access to my data")
        CORRECTION = "correction", _("correction")
        ERASURE = "erasure", _("erasure")
        RESTRICTION = "restriction", _("restriction of processing")
        OBJECTION = "objection", _("objection to processing")
        WITHDRAWAL = "withdrawal", _("withdrawal of consent")
        CLOSURE = "closure", _("account closure")

    class Status(models.TextChoices):
        RECEIVED = "received", _("received")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        COMPLETED = "completed", _("completed")
        REJECTED = "rejected", _("rejected")
        WITHDRAWN = "withdrawn", _("withdrawn by the customer")

    OPEN_STATUSES = (Status.RECEIVED, Status.ACKNOWLEDGED)

    customer = models.ForeignKey(
        "accounts.Customer",
        on_delete=models.PROTECT,
        related_name="rights_requests",
        verbose_name=_("customer"),
    )
    kind = models.CharField(_("request"), max_length=20, choices=Kind.choices)
    reason = models.TextField(_("reason given by the customer"), max_length=2000, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.RECEIVED
    )
    filed_at = models.DateTimeField(_("filed at"), default=timezone.now, db_index=True)
    acknowledge_due = models.DateTimeField(_("acknowledge by"))
    complete_due = models.DateTimeField(_("complete by"), db_index=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    extended_at = models.DateTimeField(_("extended at"), null=True, blank=True)
    extension_days = models.PositiveSmallIntegerField(_("extension (days)"), null=True, blank=True)
    extension_reason = models.CharField(_("reason for the extension"), max_length=500, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    response = models.TextField(_("response to the customer"), max_length=2000, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )

    history = PersonalHistory()

    class Meta:
        ordering = ["-filed_at", "-id"]
        verbose_name = _("data-subject request")
        verbose_name_plural = _("data-subject requests")
        indexes = [models.Index(fields=["kind", "status"], name="rights_request_kind_status")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def acknowledge_overdue(self, now=None) -> bool:
        now = now or timezone.now()
        return self.acknowledged_at is None and self.is_open and now > self.acknowledge_due

    def complete_overdue(self, now=None) -> bool:
        now = now or timezone.now()
        return self.is_open and now > self.complete_due

    def is_overdue(self, now=None) -> bool:
        return self.acknowledge_overdue(now) or self.complete_overdue(now)


class ErasureRecord(models.Model):
    """The erasure ledger: one row per erased customer (ids only, never a personal value).

    Every row is also appended to the ledger file (``ERASURE_LEDGER_FILE``), kept outside the
    database, so ``replay_erasures`` can re-apply erasures after a backup is restored. The
    customer's and the login's sign-up times identify the subject beyond its ids: a restore
    resets the id sequences, and a later customer may be given an erased customer's id.
    """

    customer_id = models.BigIntegerField(_("customer id"), unique=True)
    user_id = models.BigIntegerField(_("login id"))
    # Empty in rows written before the sign-up times were ledgered.
    customer_created_at = models.DateTimeField(_("customer signed up at"), null=True, blank=True)
    user_date_joined = models.DateTimeField(_("login created at"), null=True, blank=True)
    request = models.ForeignKey(
        DataSubjectRequest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("under request"),
    )
    approved_by_id = models.BigIntegerField(_("approved by (user id)"), null=True, blank=True)
    erased_at = models.DateTimeField(_("erased at"), default=timezone.now)
    rows_erased = models.PositiveIntegerField(_("rows rewritten"), default=0)

    class Meta:
        ordering = ["-erased_at"]
        verbose_name = _("erasure")
        verbose_name_plural = _("erasure ledger")

    def __str__(self) -> str:
        return f"customer {self.customer_id} @ {self.erased_at:%Y-%m-%d}"


class Breach(models.Model):
    """A personal-data breach, with the 72-hour clock to notify the authority."""

    class Category(models.TextChoices):
        CONTACT_PERSON = "contact_person", _("contact person")
        PHONE = "phone", _("phone number")
        EMAIL = "email", _("email")
        BUSINESS_NAME = "business_name", _("business name")
        DEVICE = "device", _("device data")
        CREDENTIALS = "credentials", _("login credentials")

    detected_at = models.DateTimeField(_("detected at"))
    description = models.TextField(_("what happened"), max_length=5000)
    categories = models.CharField(
        _("categories of data"), max_length=300, help_text=_("Comma-separated codes.")
    )
    affected = models.ManyToManyField(
        "accounts.Customer", blank=True, related_name="+", verbose_name=_("affected customers")
    )
    authority_notified_at = models.DateTimeField(_("authority notified at"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["-detected_at"]
        verbose_name = _("personal-data breach")
        verbose_name_plural = _("breach register")

    def __str__(self) -> str:
        return f"#{self.pk} {self.detected_at:%Y-%m-%d %H:%M}"

    @property
    def notify_due(self):
        import datetime

        return self.detected_at + datetime.timedelta(hours=settings.BREACH_NOTIFY_HOURS)

    def notify_overdue(self, now=None) -> bool:
        now = now or timezone.now()
        return self.authority_notified_at is None and now > self.notify_due

    def category_labels(self) -> list[str]:
        labels = dict(self.Category.choices)
        return [str(labels.get(code, code)) for code in self.categories.split(",") if code]


class BreachNotification(models.Model):
    """That one affected customer was told about a breach (the access log holds the access)."""

    breach = models.ForeignKey(
        Breach, on_delete=models.PROTECT, related_name="notifications", verbose_name=_("breach")
    )
    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    notified_at = models.DateTimeField(_("notified at"), default=timezone.now)
    notified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("notified by"),
    )

    class Meta:
        ordering = ["-notified_at"]
        verbose_name = _("breach notification")
        verbose_name_plural = _("breach notifications")
        constraints = [
            models.UniqueConstraint(fields=["breach", "customer"], name="rights_breach_notify_once")
        ]

    def __str__(self) -> str:
        return f"{self.breach_id} → {self.customer_id}"

"""Customer-care requests (questions, support, complaints) and their messages."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consent.history import PersonalHistory, TrackedModel, TrackedQuerySet


class CareRequestQuerySet(TrackedQuerySet):
    def open(self) -> CareRequestQuerySet:
        return self.filter(status__in=[CareRequest.Status.NEW, CareRequest.Status.IN_PROGRESS])

    def overdue(self, now=None) -> CareRequestQuerySet:
        """Open requests past their resolution deadline, or unacknowledged past that deadline."""
        now = now or timezone.now()
        return self.open().filter(
            Q(due_at__lt=now) | Q(acknowledged_at__isnull=True, acknowledge_due_at__lt=now)
        )


class CareRequestManager(models.Manager.from_queryset(CareRequestQuerySet)):
    pass


class CareRequest(TrackedModel):
    """A question, support request or complaint from a customer.

    Complaints are handled under the purpose ``complaints``, the rest under ``customer_care``.
    Written only by ``care.services``.
    """

    class Kind(models.TextChoices):
        QUESTION = "question", _("question")
        SUPPORT = "support", _("support request")
        COMPLAINT = "complaint", _("complaint")

    class Status(models.TextChoices):
        NEW = "new", _("new")
        IN_PROGRESS = "in_progress", _("in progress")
        RESOLVED = "resolved", _("resolved")
        CLOSED = "closed", _("closed")

    customer = models.ForeignKey(
        "accounts.Customer",
        on_delete=models.PROTECT,
        related_name="care_requests",
        verbose_name=_("customer"),
    )
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.NEW, db_index=True
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"is_staff": True, "is_active": True},
        verbose_name=_("assignee"),
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("opened by"),
    )
    created_at = models.DateTimeField(_("opened at"), default=timezone.now)
    acknowledge_due_at = models.DateTimeField(_("acknowledge by"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    due_at = models.DateTimeField(_("resolve by"), db_index=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    history = PersonalHistory()
    objects = CareRequestManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("customer-care request")
        verbose_name_plural = _("customer-care requests")

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def purpose(self) -> str:
        return "complaints" if self.kind == self.Kind.COMPLAINT else "customer_care"

    @property
    def reference(self) -> str:
        return f"care request {self.pk}"

    @property
    def contact_person(self) -> str:
        return self.customer.contact_person

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.NEW, self.Status.IN_PROGRESS)

    def is_overdue(self, now=None) -> bool:
        now = now or timezone.now()
        if not self.is_open:
            return False
        late_ack = (
            self.acknowledged_at is None
            and self.acknowledge_due_at is not None
            and self.acknowledge_due_at < now
        )
        return late_ack or self.due_at < now


class CareMessage(TrackedModel):
    """A message in a request: from the customer, a staff reply, or a staff-only internal note."""

    request = models.ForeignKey(
        CareRequest, on_delete=models.PROTECT, related_name="messages", verbose_name=_("request")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("author"),
    )
    from_staff = models.BooleanField(_("from staff"), default=False)
    internal = models.BooleanField(
        _("internal note"), default=False, help_text=_("Seen by staff only.")
    )
    body = models.TextField(_("message"), max_length=5000)
    created_at = models.DateTimeField(_("written at"), default=timezone.now)

    history = PersonalHistory()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.CheckConstraint(
                condition=Q(internal=False) | Q(from_staff=True),
                name="care_message_internal_notes_are_staff_only",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.request_id} {self.created_at:%Y-%m-%d %H:%M}"

"""Announcements staff write, and the record of every notice the portal emails.

A ``Notice`` is the record of one outgoing message (recipient customer, template, purpose, times,
status) and never holds the rendered body. It is also the claim that makes sending exactly-once:
its unique constraints allow one renewal notice per licence, term and window, and one update
notice per announcement and customer. Every other message to a customer (password reset, email
confirmation, breach notification) is sent and recorded by ``notices.outbox.outbox_send``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Announcement(models.Model):
    """An update notice written by staff in Vietnamese and English, sent to an audience."""

    class Audience(models.TextChoices):
        ALL = "all", _("all active customers")
        PLAN = "plan", _("customers with a licence for a plan")
        LICENCE_STATUS = "licence_status", _("customers with a licence in a status")

    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        QUEUED = "queued", _("queued for sending")
        SENT = "sent", _("sent")

    subject_vi = models.CharField(_("subject (Vietnamese)"), max_length=150)
    subject_en = models.CharField(_("subject (English)"), max_length=150)
    body_vi = models.TextField(_("text (Vietnamese)"), max_length=5000)
    body_en = models.TextField(_("text (English)"), max_length=5000)
    audience = models.CharField(
        _("audience"), max_length=20, choices=Audience.choices, default=Audience.ALL
    )
    plan = models.ForeignKey(
        "licensing.Plan",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("plan"),
        help_text=_("Only for the audience “customers with a licence for a plan”."),
    )
    licence_status = models.CharField(
        _("licence status"),
        max_length=10,
        blank=True,
        choices=[
            ("active", _("active")),
            ("expired", _("expired")),
            ("suspended", _("suspended")),
            ("cancelled", _("cancelled")),
        ],
        help_text=_("Only for the audience “customers with a licence in a status”."),
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("written by"),
    )
    created_at = models.DateTimeField(_("written at"), default=timezone.now)
    sent_at = models.DateTimeField(_("last sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("update notice")
        verbose_name_plural = _("update notices")

    def __str__(self) -> str:
        return self.subject

    @property
    def subject(self) -> str:
        return self.subject_for(get_language() or "vi")

    def subject_for(self, language: str) -> str:
        return self.subject_en if language.startswith("en") else self.subject_vi

    def body_for(self, language: str) -> str:
        return self.body_en if language.startswith("en") else self.body_vi


class Notice(models.Model):
    """One outgoing email: who it went to, from which template, under which purpose, and when."""

    class Status(models.TextChoices):
        CLAIMED = "claimed", _("being sent")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    customer = models.ForeignKey(
        "accounts.Customer",
        on_delete=models.PROTECT,
        related_name="notices",
        verbose_name=_("recipient"),
    )
    # Empty for mail the customer asked for themselves (password reset, email confirmation).
    purpose = models.CharField(_("purpose"), max_length=40, blank=True)
    template = models.CharField(_("template"), max_length=100)
    language = models.CharField(_("language"), max_length=8)
    licence = models.ForeignKey(
        "licensing.Licence",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notices",
        verbose_name=_("licence"),
    )
    licence_expires_on = models.DateField(_("licence expiry"), null=True, blank=True)
    window_days = models.PositiveSmallIntegerField(_("days before expiry"), null=True, blank=True)
    announcement = models.ForeignKey(
        Announcement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notices",
        verbose_name=_("update notice"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.CLAIMED
    )
    # Empty for a single message sent through ``notices.outbox`` (not by a sending run).
    run_id = models.CharField(_("run"), max_length=32, db_index=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=1)
    error = models.CharField(_("error"), max_length=200, blank=True)

    class Meta:
        ordering = ["-claimed_at", "-id"]
        verbose_name = _("sent notice")
        verbose_name_plural = _("sent notices")
        constraints = [
            models.UniqueConstraint(
                fields=["licence", "licence_expires_on", "window_days"],
                condition=Q(licence__isnull=False),
                name="notices_one_renewal_notice_per_licence_term_window",
            ),
            models.UniqueConstraint(
                fields=["announcement", "customer"],
                condition=Q(announcement__isnull=False),
                name="notices_one_update_notice_per_customer",
            ),
        ]
        indexes = [
            # The dossier reads one customer's notices newest first.
            models.Index(fields=["customer", "-claimed_at"], name="notice_customer_at"),
            models.Index(fields=["status", "claimed_at"], name="notice_status_claimed"),
        ]

    def __str__(self) -> str:
        return f"{self.template} → {self.customer_id} ({self.status})"

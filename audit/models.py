"""Seals over the access log, verification runs, the reviewer-activity trail, erasure-gate uses and
snapshots of the purposes each staff login was granted: append-only tables (the database refuses
UPDATE, DELETE and TRUNCATE: see ``audit/triggers.py``). Also the reports' hourly figures, derived
from the access log and recomputable (``audit/rollup.py``), which are ordinary tables."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

GENESIS_DIGEST = "0" * 64


class Seal(models.Model):
    """A SHA-256 digest over the access-log rows with ids ``first_id``..``last_id``.

    Chained: the digest covers the previous seal's digest, so removing or editing any seal or any
    sealed row breaks every later digest.
    """

    sealed_at = models.DateTimeField(_("sealed at"), default=timezone.now)
    first_id = models.BigIntegerField(_("first row id"), unique=True)
    last_id = models.BigIntegerField(_("last row id"))
    row_count = models.PositiveIntegerField(_("rows"))
    prev_digest = models.CharField(_("previous digest"), max_length=64)
    digest = models.CharField(_("digest"), max_length=64, unique=True)

    class Meta:
        ordering = ["-first_id"]
        verbose_name = _("seal")
        verbose_name_plural = _("seals")

    def __str__(self) -> str:
        return f"#{self.pk} [{self.first_id}..{self.last_id}] {self.digest[:12]}"


class Verification(models.Model):
    """One run of the verification of the seal chain (command or integrity page)."""

    at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("run by"),
    )
    channel = models.CharField(_("channel"), max_length=10)
    since = models.DateTimeField(_("checked seals since"), null=True, blank=True)
    ok = models.BooleanField(_("intact"))
    seals_checked = models.PositiveIntegerField(_("seals checked"))
    rows_checked = models.PositiveBigIntegerField(_("rows checked"))
    first_bad_seal_id = models.BigIntegerField(_("first bad seal"), null=True, blank=True)
    problem = models.TextField(_("problem"), blank=True)
    head_digest = models.CharField(_("head digest"), max_length=64, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("verification")
        verbose_name_plural = _("verifications")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'FAILED'}"


class ReviewerActivity(models.Model):
    """What a reviewer did in the audit views: a search, an export, a dossier, a reveal, a check.

    Readable by every reviewer; the access-log explorer records its searches here and never in the
    access log itself.
    """

    class Action(models.TextChoices):
        SEARCH = "search", _("searched the access log")
        EXPORT = "export", _("exported the access log")
        DOSSIER = "dossier", _("opened a customer dossier")
        REVEAL = "reveal", _("revealed the values of a change")
        REPORT = "report", _("opened the reports")
        VERIFY = "verify", _("verified the seals")
        INTEGRITY = "integrity", _("opened the integrity page")

    at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reviewer"),
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    detail = models.TextField(_("filter or details"), blank=True)
    customer_id = models.BigIntegerField(_("customer"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=32, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("reviewer activity")
        verbose_name_plural = _("reviewer activity")
        indexes = [models.Index(fields=["-at"], name="audit_activity_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_id} {self.action}"


class GateUse(models.Model):
    """One opening of the sanctioned path through the append-only triggers.

    ``txid`` ties the row to the PostgreSQL transaction that opened the gate: the triggers let a
    change through only when such a row exists in the same transaction (and the gate is open).
    """

    class Kind(models.TextChoices):
        ERASURE = "erasure", _("erasure of personal values in history")
        TEST_FLUSH = "test_flush", _("test database flush")

    at = models.DateTimeField(_("time"), default=timezone.now)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    reason = models.TextField(_("reason"))
    approved_by_id = models.BigIntegerField(_("approved by"), null=True, blank=True)
    actor_id = models.BigIntegerField(_("actor"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=32, blank=True)
    txid = models.BigIntegerField(_("transaction id"), null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("erasure gate use")
        verbose_name_plural = _("erasure gate uses")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}"


class GrantSnapshot(models.Model):
    """The purposes a login was granted from ``at`` on (until its next snapshot).

    Written whenever group membership, a purpose's groups or the superuser/active flags change, so
    "was this purpose granted to this actor at that time" is a lookup of the latest snapshot.
    """

    user_id = models.BigIntegerField(_("login"))
    at = models.DateTimeField(_("from"), default=timezone.now)
    is_superuser = models.BooleanField(_("superuser"))
    is_reviewer = models.BooleanField(_("compliance reviewer"))
    # ",code,code," so that a purpose code can be matched with LIKE '%,code,%' in SQL.
    purposes = models.CharField(_("purposes granted"), max_length=400)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("grant snapshot")
        verbose_name_plural = _("grant snapshots")
        indexes = [models.Index(fields=["user_id", "-at"], name="audit_grant_user_at")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.at:%Y-%m-%d %H:%M} {self.purposes}"

    @property
    def purpose_codes(self) -> list[str]:
        return [code for code in self.purposes.split(",") if code]


class HourlyVolume(models.Model):
    """Access-log rows of one clock hour (UTC) in one series of the reports' weekly chart.

    Derived from the access log by ``audit.rollup`` for hours that can no longer change, so that
    reports over long periods sum hours instead of counting every row. Not evidence (the sealed
    access log is); ``rollup_audit_log --rebuild`` recomputes it.
    """

    hour = models.DateTimeField(_("hour"))
    # A purpose code, "" (no purpose: oversight and system) or audit.reports.SELF_ACCESS.
    series = models.CharField(_("series"), max_length=40)
    accesses = models.PositiveIntegerField(_("accesses"))

    class Meta:
        verbose_name = _("hourly access volume")
        verbose_name_plural = _("hourly access volumes")
        constraints = [
            models.UniqueConstraint(fields=["hour", "series"], name="audit_hourlyvolume_unique")
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H:00} {self.series or '-'}: {self.accesses}"


class HourlyActor(models.Model):
    """Staff use (self-access excluded) by one actor in one clock hour (UTC): distinct customers
    and accesses. The bulk-access alerts read it (``audit.rollup``)."""

    hour = models.DateTimeField(_("hour"))
    actor_id = models.BigIntegerField(_("actor"))
    customers = models.PositiveIntegerField(_("distinct customers"))
    accesses = models.PositiveIntegerField(_("accesses"))

    class Meta:
        verbose_name = _("hourly actor activity")
        verbose_name_plural = _("hourly actor activity")
        constraints = [
            models.UniqueConstraint(fields=["hour", "actor_id"], name="audit_hourlyactor_unique")
        ]
        indexes = [models.Index(fields=["customers", "hour"], name="audit_hourlyactor_busy")]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H:00} actor {self.actor_id}: {self.customers}"


class RollupState(models.Model):
    """How far the hourly figures reach: every hour before ``through`` is rolled up (one row)."""

    through = models.DateTimeField(_("rolled up until"))
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("rollup state")
        verbose_name_plural = _("rollup state")

    def __str__(self) -> str:
        return f"{self.through:%Y-%m-%d %H:00}"

"""Purposes, policy versions, consent records and the data-access log."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .context import Channel


def sha256_hex(text: str) -> str:
    """Return the SHA-256 of ``text`` encoded as UTF-8, in hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Purpose(models.Model):
    """One of the five uses of personal data that clause 3 of the policy allows.

    Created by a data migration; never added, renamed or deleted from the portal (a new purpose
    means a new policy version).
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_vi = models.CharField(_("name (Vietnamese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    clause_vi = models.TextField(_("policy clause (Vietnamese)"))
    clause_en = models.TextField(_("policy clause (English)"))
    position = models.PositiveSmallIntegerField(_("position"))
    groups = models.ManyToManyField(
        "auth.Group", related_name="purposes", blank=True, verbose_name=_("granted to groups")
    )

    class Meta:
        ordering = ["position"]
        verbose_name = _("purpose")
        verbose_name_plural = _("purposes")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "vi").startswith("en") else self.name_vi

    @property
    def clause(self) -> str:
        return self.clause_en if (get_language() or "vi").startswith("en") else self.clause_vi


class PublishedPolicyError(RuntimeError):
    """A published policy version was about to be changed or deleted: publish a new one."""


class PolicyVersion(models.Model):
    """A published version of the privacy policy. Published versions never change.

    ``save()`` only inserts and ``delete()`` refuses; the database refuses UPDATE, DELETE and
    TRUNCATE of the table as well (``consent/migrations/0003_policyversion_append_only.py``).
    """

    label = models.CharField(_("version"), max_length=40, unique=True)
    effective_date = models.DateField(_("effective date"))
    text_vi = models.TextField(_("text (Vietnamese)"))
    text_en = models.TextField(_("text (English)"))
    sha256_vi = models.CharField(_("SHA-256 of the Vietnamese text"), max_length=64)
    sha256_en = models.CharField(_("SHA-256 of the English text"), max_length=64)
    published_at = models.DateTimeField(_("published at"), default=timezone.now)

    class Meta:
        ordering = ["-effective_date", "-published_at"]
        get_latest_by = ["effective_date", "published_at"]
        verbose_name = _("policy version")
        verbose_name_plural = _("policy versions")

    def __str__(self) -> str:
        return self.label

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert this new version; refuse to save over one that was published."""
        if not self._state.adding or (
            self.pk is not None and type(self)._base_manager.filter(pk=self.pk).exists()
        ):
            raise PublishedPolicyError(
                f"Policy version {self.label} is published and never changes; publish a new"
                " version (consent.services.policy_publish)."
            )
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PublishedPolicyError(
            f"Policy version {self.label} is published: consents refer to it, it is never deleted."
        )

    def text_for(self, language: str) -> str:
        return self.text_en if language.startswith("en") else self.text_vi

    def sha256_for(self, language: str) -> str:
        return self.sha256_en if language.startswith("en") else self.sha256_vi


class ConsentRecord(models.Model):
    """Append-only evidence that a customer accepted (or withdrew) consent.

    ``purpose`` is empty for acceptance of the whole policy; a per-purpose choice names it.
    """

    class Kind(models.TextChoices):
        ACCEPTED = "accepted", _("accepted")
        WITHDRAWN = "withdrawn", _("withdrawn")

    customer = models.ForeignKey(
        "accounts.Customer",
        on_delete=models.PROTECT,
        related_name="consents",
        verbose_name=_("customer"),
    )
    policy_version = models.ForeignKey(
        PolicyVersion, on_delete=models.PROTECT, verbose_name=_("policy version")
    )
    purpose = models.ForeignKey(
        Purpose, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("purpose")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.ACCEPTED)
    text_sha256 = models.CharField(_("SHA-256 of the text shown"), max_length=64)
    language = models.CharField(_("language shown"), max_length=8)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.TextField(_("user agent"), blank=True)

    class Meta:
        ordering = ["-recorded_at"]
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")

    def __str__(self) -> str:
        return f"{self.customer_id} {self.kind} {self.policy_version_id}"


class AccessLogQuerySet(models.QuerySet):
    """Access-log rows, with the one definition of self-access.

    **Self-access** is a row with no purpose whose actor is the login of the customer the row is
    about: the customer reading, changing or downloading their own data (portal, app API, the
    customer's own commands). Every other row is staff or system use, including purpose-less
    oversight (a reviewer's dossier view) and purpose-less system work.
    """

    @staticmethod
    def self_access_condition(*, for_aggregates: bool = False) -> models.Q:
        """Return the condition a self-access row meets (for filters, ``Case`` and ``Count``).

        One definition, written two ways for PostgreSQL's planner (both never NULL, so their
        negation keeps rows without a customer or an actor):

        - by default the customer's login is a scalar subquery on the customer's primary key,
          which PostgreSQL cannot turn into a join: a keyset page stays an index scan in
          ``(at, id)`` order with one primary-key probe per row read, stopping at the page size
          (``EXISTS`` there became a hash join over every customer and a sort of every row
          without a purpose: 0.5 ms against 350 ms for a page at 300,000 such rows);
        - ``for_aggregates`` (reports over a whole period) uses ``EXISTS``, which the planner
          runs as one hashed lookup of the customers instead of a probe per row (about twice as
          fast over 800,000 rows).
        """
        from django.apps import apps

        customer = apps.get_model("accounts", "Customer")
        if for_aggregates:
            own = customer.objects.filter(
                pk=models.OuterRef("customer_id"), user_id=models.OuterRef("actor_id")
            )
            return models.Q(purpose="") & models.Q(models.Exists(own))
        own_login = models.Subquery(
            customer.objects.filter(pk=models.OuterRef("customer_id"))
            .order_by()
            .values("user_id")[:1]
        )
        return models.Q(
            purpose="",
            actor_id__isnull=False,
            actor_id=Coalesce(own_login, models.Value(0)),
        )

    def self_access(self, *, for_aggregates: bool = False) -> AccessLogQuerySet:
        """Return only the rows of customers acting on their own data."""
        return self.filter(self.self_access_condition(for_aggregates=for_aggregates))

    def staff_use(self, *, for_aggregates: bool = False) -> AccessLogQuerySet:
        """Return every row but self-access (staff, reviewers and the system)."""
        return self.exclude(self.self_access_condition(for_aggregates=for_aggregates))

    def with_self_access(self) -> AccessLogQuerySet:
        """Annotate each row with ``is_self`` (read by ``AccessLog.is_self_access``)."""
        return self.annotate(
            is_self=models.Case(
                models.When(self.self_access_condition(), then=models.Value(True)),
                default=models.Value(False),
                output_field=models.BooleanField(),
            )
        )


class AccessLog(models.Model):
    """One access to one customer's personal data. Written only by ``consent.access``.

    Ids are plain integers, not foreign keys: the log must outlive erasures and is bulk-written.
    It never holds the personal values themselves, only the names of the fields disclosed.
    """

    class Action(models.TextChoices):
        LIST = "list", _("list")
        VIEW = "view", _("view")
        CHANGE = "change", _("change")
        CREATE = "create", _("create")
        DELETE = "delete", _("delete")
        EXPORT = "export", _("export")
        NOTIFY = "notify", _("notify")
        SEARCH = "search", _("search")
        API = "api", _("API call")
        HISTORY = "history", _("history")

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", _("allowed")
        DENIED = "denied", _("denied")

    at = models.DateTimeField(_("time"), default=timezone.now)
    actor_id = models.BigIntegerField(_("actor"), null=True, blank=True)
    customer_id = models.BigIntegerField(_("customer"), null=True, blank=True)
    purpose = models.CharField(_("purpose"), max_length=40, blank=True)
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    fields = models.CharField(_("fields disclosed"), max_length=500, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    request_id = models.CharField(_("request id"), max_length=32, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.ALLOWED
    )

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("data-access log entry")
        verbose_name_plural = _("data-access log")
        indexes = [
            # The dossier and "who used my data" read one customer's rows newest first.
            models.Index(fields=["customer_id", "-at"], name="accesslog_customer_at"),
            models.Index(fields=["actor_id", "-at"], name="accesslog_actor_at"),
            models.Index(fields=["-at"], name="accesslog_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.customer_id}"

    @property
    def is_self_access(self) -> bool:
        """Return True for a customer acting on their own data (``AccessLogQuerySet``).

        Uses the ``is_self`` annotation when the row was read ``with_self_access()``; otherwise
        looks the customer's login up (one query).
        """
        annotated = getattr(self, "is_self", None)
        if annotated is not None:
            return bool(annotated)
        if self.purpose or self.actor_id is None or self.customer_id is None:
            return False
        from django.apps import apps

        customer = apps.get_model("accounts", "Customer")
        return customer.objects.filter(pk=self.customer_id, user_id=self.actor_id).exists()

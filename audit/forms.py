"""Filters of the access-log explorer and the reports, and the reason asked before a reveal."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.normalize import email_equals
from consent.context import Channel
from consent.models import AccessLog, Purpose

NO_PURPOSE = "-"
SELF_ACCESS = "self"


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def day_start(day: datetime.date) -> datetime.datetime:
    """Return the first instant of ``day`` in the display time zone (Asia/Ho_Chi_Minh)."""
    return datetime.datetime.combine(day, datetime.time(), tzinfo=local_zone())


@dataclass(frozen=True)
class AccessFilter:
    """A validated explorer filter (what the explorer, the export and the trail all use)."""

    customer_id: int | None = None
    actor_id: int | None = None
    purpose: str | None = None  # "" = no purpose
    # With purpose "": True = self-access only, False = the rest (oversight and system work).
    self_access: bool | None = None
    action: str | None = None
    outcome: str | None = None
    channel: str | None = None
    start: datetime.datetime | None = None
    end: datetime.datetime | None = None  # exclusive

    def describe(self) -> str:
        """Return the filter as ``name=value`` pairs (for the trail and the export's first line)."""
        parts = []
        for name in ("customer_id", "actor_id", "purpose", "action", "outcome", "channel"):
            value = getattr(self, name)
            if name == "purpose" and value == "" and self.self_access:
                parts.append(f"purpose={SELF_ACCESS}")
            elif value is not None:
                parts.append(f"{name}={value if value != '' else NO_PURPOSE}")
        if self.start:
            parts.append(f"from={self.start.isoformat()}")
        if self.end:
            parts.append(f"before={self.end.isoformat()}")
        return ", ".join(parts) or "none"


def _choices(pairs: Any) -> list[tuple[str, Any]]:
    return [("", _("any")), *pairs]


class DateRangeMixin:
    def clean_range(self, cleaned: dict[str, Any]) -> None:
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date must not be before the start date."))


class AccessFilterForm(DateRangeMixin, forms.Form):
    customer = forms.IntegerField(label=_("Customer id"), required=False, min_value=1)
    actor = forms.CharField(
        label=_("Actor (email or id)"), required=False, max_length=254, strip=True
    )
    purpose = forms.ChoiceField(label=_("Purpose"), required=False)
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=_choices(AccessLog.Action.choices)
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), required=False, choices=_choices(AccessLog.Outcome.choices)
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=_choices(Channel.choices)
    )
    date_from = forms.DateField(label=_("From (date)"), required=False)
    date_to = forms.DateField(label=_("To (date, inclusive)"), required=False)
    after = forms.CharField(required=False, widget=forms.HiddenInput, max_length=80)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["purpose"].choices = _choices(
            [
                (SELF_ACCESS, _("(self-access: customers using their own data)")),
                (NO_PURPOSE, _("(none: reviewers' oversight and system work)")),
            ]
            + [(p.code, p.name) for p in Purpose.objects.all()]
        )

    def clean_actor(self) -> int | None:
        value = self.cleaned_data["actor"]
        if not value:
            return None
        if value.isdigit():
            return int(value)
        user = get_user_model().objects.filter(email_equals("email", value)).only("pk").first()
        if user is None:
            raise forms.ValidationError(_("No login has this email."), code="unknown")
        return user.pk

    def clean_after(self) -> tuple[datetime.datetime, int] | None:
        value = self.cleaned_data["after"]
        if not value:
            return None
        at_text, _sep, id_text = value.rpartition("_")
        at = datetime.datetime.fromisoformat(at_text) if at_text else None
        if at is None or at.tzinfo is None or not id_text.isdigit():
            raise forms.ValidationError(_("This page link is not valid."), code="cursor")
        return at, int(id_text)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.clean_range(cleaned)
        return cleaned

    def to_filter(self) -> AccessFilter:
        data = self.cleaned_data
        purpose = data.get("purpose") or None
        return AccessFilter(
            customer_id=data.get("customer"),
            actor_id=data.get("actor"),
            purpose="" if purpose in (NO_PURPOSE, SELF_ACCESS) else purpose,
            self_access={NO_PURPOSE: False, SELF_ACCESS: True}.get(purpose),
            action=data.get("action") or None,
            outcome=data.get("outcome") or None,
            channel=data.get("channel") or None,
            start=day_start(data["date_from"]) if data.get("date_from") else None,
            end=day_start(data["date_to"] + datetime.timedelta(days=1))
            if data.get("date_to")
            else None,
        )


def cursor_token(at: datetime.datetime, pk: int) -> str:
    """Return the explorer's keyset cursor for the row (``at``, ``pk``)."""
    return f"{at.astimezone(datetime.UTC).isoformat()}_{pk}"


class ReportForm(DateRangeMixin, forms.Form):
    date_from = forms.DateField(label=_("From (date)"), required=False)
    date_to = forms.DateField(label=_("To (date, inclusive)"), required=False)

    DEFAULT_DAYS = 56

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.clean_range(cleaned)
        if cleaned.get("date_from") and cleaned.get("date_to"):
            if (cleaned["date_to"] - cleaned["date_from"]).days > 366:
                self.add_error("date_to", _("Choose a period of at most one year."))
        return cleaned

    def period(self) -> tuple[datetime.datetime, datetime.datetime]:
        """Return [start, end) of the chosen period (default: the last eight weeks)."""
        today = timezone.localdate()
        data = getattr(self, "cleaned_data", {}) or {}
        end_day = data.get("date_to") or today
        start_day = data.get("date_from") or end_day - datetime.timedelta(days=self.DEFAULT_DAYS)
        return day_start(start_day), day_start(end_day + datetime.timedelta(days=1))

    def with_period_error(self, message: str) -> ReportForm:
        """This form with ``message`` as the period's error; an unbound form (the default
        period), which cannot hold an error, is first bound to the period it reported on."""
        form = self
        if not self.is_bound:
            start, end = self.period()
            last_day = (end - datetime.timedelta(days=1)).date()
            form = ReportForm({"date_from": start.date(), "date_to": last_day})
            form.is_valid()
        form.add_error("date_from", message)
        return form


class RevealForm(forms.Form):
    change = forms.CharField(widget=forms.HiddenInput, max_length=60)
    reason = forms.CharField(
        label=_("Reason (the complaint or investigation this serves)"),
        min_length=10,
        max_length=200,
        strip=True,
        widget=forms.TextInput(attrs={"size": 60}),
        error_messages={
            "required": _("Give the reason: the complaint or investigation this serves."),
            "min_length": _("Describe the reason in at least %(limit_value)d characters."),
        },
    )


class VerifyForm(forms.Form):
    since = forms.DateField(
        label=_("Check seals made since (date; empty: all seals)"), required=False
    )

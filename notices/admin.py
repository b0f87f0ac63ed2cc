"""Staff admin for update notices (write, preview, choose the audience, queue) and sent notices.

Sending a large audience would outlast a request, so the admin's send action queues the notice;
``python manage.py send_update_notice --queued`` (cron, every minute) sends it exactly once per
customer. Queuing needs the declared purpose ``update_notices``; who queued it and when is kept in
the admin's own log (``LogEntry``, shown on the notice's page and its History). The sent-notice
records are read-only and show recipients only under a notice purpose.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from consent import access
from consent.admin_mixins import PersonalDataAdminMixin, ReadOnlyAdmin
from consent.selectors import user_may_declare

from . import services
from .models import Announcement, Notice

# The admin-log message of "queued for sending" (the state field changed to queued).
QUEUED_MESSAGE = json.dumps([{"changed": {"fields": ["state"]}}])


def queued_entries(announcement: Announcement) -> Any:
    """Return the admin-log entries of the times ``announcement`` was queued, newest first."""
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Announcement),
        object_id=str(announcement.pk),
        action_flag=CHANGE,
        change_message=QUEUED_MESSAGE,
    ).select_related("user")


class AnnouncementForm(forms.ModelForm):
    class Meta:
        model = Announcement
        fields = [
            "subject_vi",
            "subject_en",
            "body_vi",
            "body_en",
            "audience",
            "plan",
            "licence_status",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        probe = Announcement(
            audience=data.get("audience") or Announcement.Audience.ALL,
            plan=data.get("plan"),
            licence_status=data.get("licence_status") or "",
        )
        try:
            services.announcement_validate(probe)
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                for error in errors:
                    self.add_error(name, error)
        return data


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    form = AnnouncementForm
    list_display = [
        "__str__",
        "audience",
        "plan",
        "licence_status",
        "state",
        "created_at",
        "sent_at",
    ]
    list_filter = ["state", "audience"]
    readonly_fields = [
        "state",
        "created_by",
        "created_at",
        "sent_at",
        "queued",
        "audience_size",
        "preview",
        "delivery",
    ]
    fieldsets = [
        (_("Vietnamese"), {"fields": ["subject_vi", "body_vi"]}),
        (_("English"), {"fields": ["subject_en", "body_en"]}),
        (_("Audience"), {"fields": ["audience", "plan", "licence_status", "audience_size"]}),
        (_("Preview"), {"fields": ["preview"]}),
        (
            _("Sending"),
            {"fields": ["state", "created_by", "created_at", "queued", "sent_at", "delivery"]},
        ),
    ]
    actions = ["queue_for_sending"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.state != Announcement.State.DRAFT:
            return False  # what was queued or sent stays as it was
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Announcement, form: Any, change: bool):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description=_("audience now"))
    def audience_size(self, obj: Announcement) -> str:
        """What a send would do now: the counts of a dry run, by the send's own rules."""
        if obj.pk is None:
            return "—"
        try:
            plan = services.update_notice_send(announcement=obj, dry_run=True)
        except ValidationError as error:
            return " ".join(error.messages)
        return _(
            "%(due)d customers to send to; not sent: %(sent)d already sent, %(withdrew)d withdrew"
            " consent to update notices, %(restricted)d under a restriction"
        ) % {
            "due": plan.due,
            "sent": plan.already_sent,
            "withdrew": plan.skipped_consent,
            "restricted": plan.skipped_restricted,
        }

    @admin.display(description=_("preview"))
    def preview(self, obj: Announcement) -> str:
        if obj.pk is None:
            return _("Save the draft to see a preview.")
        parts = []
        for language in ("vi", "en"):
            subject, body = services.announcement_preview(announcement=obj, language=language)
            parts.append((language, subject, body))
        return format_html_join(
            "",
            '<div class="notice-preview" lang="{}"><p><strong>{}</strong></p>'
            '<pre class="notice-preview-body">{}</pre></div>',
            parts,
        )

    @admin.display(description=_("queued for sending"))
    def queued(self, obj: Announcement) -> str:
        if obj.pk is None:
            return "—"
        entry = queued_entries(obj).first()
        if entry is None:
            return "—"
        return _("%(when)s by %(who)s") % {
            "when": timezone.localtime(entry.action_time).strftime("%d/%m/%Y %H:%M"),
            "who": entry.user.email,
        }

    @admin.display(description=_("delivery"))
    def delivery(self, obj: Announcement) -> str:
        if obj.pk is None:
            return "—"
        counts = {s: obj.notices.filter(status=s).count() for s in Notice.Status.values}
        return format_html(
            "{}: {} · {}: {} · {}: {}",
            Notice.Status.SENT.label,
            counts["sent"],
            Notice.Status.FAILED.label,
            counts["failed"],
            Notice.Status.CLAIMED.label,
            counts["claimed"],
        )

    @admin.action(description=_("Send selected update notices (queued for the sending command)"))
    def queue_for_sending(self, request: HttpRequest, queryset: QuerySet) -> None:
        """Queue the notices under the declared purpose ``update_notices`` (staff granted it).

        Refused with a message (and a ``denied`` row) without a grant or under another purpose;
        each queuing is recorded in the admin log with the staff member and the time.
        """
        declared = request.access_context.purpose or ""
        if not user_may_declare(request.user, services.UPDATE_PURPOSE):
            access.access_denied(
                subjects=[None], action=access.Action.NOTIFY, purpose=services.UPDATE_PURPOSE
            )
            self.message_user(
                request,
                _("None of your roles grants the purpose “update notices”."),
                messages.ERROR,
            )
            return
        if declared != services.UPDATE_PURPOSE:
            if declared:
                access.access_denied(subjects=[None], action=access.Action.NOTIFY)
            self.message_user(
                request,
                _("Declare the purpose “update notices” before sending update notices."),
                messages.ERROR,
            )
            return
        for announcement in queryset:
            try:
                services.announcement_queue(announcement=announcement)
            except ValidationError as exc:
                self.message_user(
                    request, f"{announcement}: {' '.join(exc.messages)}", messages.ERROR
                )
            else:
                self.log_change(request, announcement, QUEUED_MESSAGE)
                self.message_user(
                    request,
                    _(
                        "“%(subject)s” is queued; it goes out within a minute "
                        "(send_update_notice --queued)."
                    )
                    % {"subject": announcement},
                )


@admin.register(Notice)
class NoticeAdmin(PersonalDataAdminMixin, ReadOnlyAdmin):
    """Every notice emailed: recipient, template, purpose, time and status (never the body)."""

    personal_fields = ("customer__user__email",)
    subject_path = "customer_id"
    allowed_purposes = frozenset({"renewal_notices", "update_notices"})
    list_display = [
        "customer__business_name",
        "customer__user__email",
        "purpose",
        "template",
        "language",
        "status",
        "claimed_at",
        "sent_at",
        "attempts",
    ]
    list_select_related = ["customer__user"]
    list_filter = ["status", "purpose", "template"]
    search_fields = ["customer__business_name"]
    fields = [
        "customer",
        "purpose",
        "template",
        "language",
        "licence",
        "licence_expires_on",
        "window_days",
        "announcement",
        "status",
        "run_id",
        "claimed_at",
        "sent_at",
        "attempts",
        "error",
    ]
    readonly_fields = fields
    actions: list[str] = []


"""Staff admin for customer-care requests: the thread, replies, internal notes, status, assignee.

Opening a request sets the staff member's purpose declaration to the request's purpose
(``customer_care`` or ``complaints``) with the request as reference, if their groups grant it;
otherwise a 403 page and a ``denied`` row. Closing the request ends the declaration. All writes go
through ``care.services``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from consent import access
from consent.admin_mixins import PersonalDataAdminMixin
from consent.admin_site import purpose_denied_response
from consent.declaration import declaration_end, declaration_set
from consent.selectors import user_may_declare
from security.locking import OptimisticLockAdminMixin

from . import services
from .forms import BODY_MAX, SUBJECT_MAX, clean_text
from .models import CareRequest
from .selectors import care_request_messages_for_staff


class OverdueFilter(admin.SimpleListFilter):
    title = gettext_lazy("deadline")
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", gettext_lazy("overdue")), ("no", gettext_lazy("on time"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        overdue = CareRequest.objects.overdue().values("pk")
        if self.value() == "yes":
            return queryset.filter(pk__in=overdue)
        if self.value() == "no":
            return queryset.exclude(pk__in=overdue)
        return queryset


class CareRequestOpenForm(forms.ModelForm):
    """A staff member opens a request on a customer's behalf."""

    body = forms.CharField(
        label=gettext_lazy("First message"), widget=forms.Textarea, strip=False,
        max_length=BODY_MAX * 5,
    )

    class Meta:
        model = CareRequest
        fields = ["customer", "kind", "subject"]

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_subject(self) -> str:
        return clean_text(self.cleaned_data["subject"], limit=SUBJECT_MAX, multiline=False)

    def clean_body(self) -> str:
        return clean_text(self.cleaned_data["body"], limit=BODY_MAX, multiline=True)

    def clean_kind(self) -> str:
        kind = self.cleaned_data["kind"]
        if self.user is not None and not user_may_declare(
            self.user, services.purpose_for_kind(kind)
        ):
            raise ValidationError(_("None of your roles lets you handle this type of request."))
        return kind

    def clean(self) -> dict[str, Any]:
        """Refuse (with a ``denied`` row) a customer whose restriction forbids the request's
        purpose (``care.services.care_request_open_check``)."""
        data = super().clean()
        if data.get("customer") and data.get("kind"):
            try:
                services.care_request_open_check(customer=data["customer"], kind=data["kind"])
            except services.Restricted as exc:
                self.add_error("customer", str(exc))
        return data


class CareRequestWorkForm(forms.ModelForm):
    """Reply, write an internal note, move the status or assign the request."""

    reply = forms.CharField(
        label=gettext_lazy("Reply to the customer"), widget=forms.Textarea, required=False,
        strip=False, max_length=BODY_MAX * 5,
    )
    internal_note = forms.CharField(
        label=gettext_lazy("Internal note (staff only)"), widget=forms.Textarea, required=False,
        strip=False, max_length=BODY_MAX * 5,
    )

    class Meta:
        model = CareRequest
        fields = ["status", "assignee"]

    def _clean_optional(self, name: str) -> str:
        value = self.cleaned_data.get(name) or ""
        return clean_text(value, limit=BODY_MAX, multiline=True) if value.strip() else ""

    def clean_reply(self) -> str:
        return self._clean_optional("reply")

    def clean_internal_note(self) -> str:
        return self._clean_optional("internal_note")

    def clean_status(self) -> str:
        new = self.cleaned_data["status"]
        old = self.initial.get("status", new)
        if new != old and new not in services.TRANSITIONS.get(old, ()):
            raise ValidationError(
                _("A request that is %(old)s cannot become %(new)s.")
                % {"old": CareRequest.Status(old).label, "new": CareRequest.Status(new).label}
            )
        return new

    def clean_assignee(self) -> Any:
        assignee = self.cleaned_data.get("assignee")
        try:
            services.assignee_validate(request=self.instance, assignee=assignee)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["assignee"]) from exc
        return assignee


@admin.register(CareRequest)
class CareRequestAdmin(OptimisticLockAdminMixin, PersonalDataAdminMixin, SimpleHistoryAdmin):
    personal_fields = ("subject", "contact_person")
    subject_path = "customer_id"
    allowed_purposes = frozenset({"customer_care", "complaints"})
    list_display = ["id", "subject", "customer", "kind", "status", "assignee", "created_at",
                    "deadline"]
    list_display_links = ["id"]
    list_select_related = ["customer", "assignee"]
    list_filter = [OverdueFilter, "kind", "status", "assignee"]
    search_fields = ["customer__business_name"]
    autocomplete_fields = ["customer"]
    actions: list[str] = []
    list_per_page = 100

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        if obj is None:
            form = super().get_form(request, obj, change=change, form=CareRequestOpenForm,
                                    **kwargs)

            class BoundOpenForm(form):
                def __init__(self, *args: Any, **kw: Any) -> None:
                    super().__init__(*args, user=request.user, **kw)

            return BoundOpenForm
        return super().get_form(request, obj, change=change, form=CareRequestWorkForm, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return [(None, {"fields": ["customer", "kind", "subject", "body"]})]
        return super().get_fieldsets(request, obj)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return ["customer", "kind", "subject", "body"]
        return ["customer", "contact_person", "kind", "subject", "created_at", "opened_by",
                "acknowledge_due_at", "acknowledged_at", "due_at", "resolved_at", "closed_at",
                "thread", "status", "assignee", "reply", "internal_note"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return []
        readonly = ["customer", "contact_person", "kind", "subject", "created_at", "opened_by",
                    "acknowledge_due_at", "acknowledged_at", "due_at", "resolved_at",
                    "closed_at", "thread"]
        if not self.may_edit(request, obj):
            readonly += ["status", "assignee", "reply", "internal_note"]
        return readonly

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("contact person"))
    def contact_person(self, obj: CareRequest) -> str:
        return obj.contact_person

    @admin.display(description=gettext_lazy("messages"))
    def thread(self, obj: CareRequest) -> str:
        return render_to_string(
            "care/admin_thread.html", {"thread": care_request_messages_for_staff(request=obj)}
        )

    @admin.display(description=gettext_lazy("deadline"), ordering="due_at")
    def deadline(self, obj: CareRequest) -> str:
        due = timezone.localtime(obj.due_at).strftime("%d/%m/%Y %H:%M")
        if obj.is_overdue():
            return format_html('<strong class="overdue">{} {}</strong>', _("OVERDUE"), due)
        return due

    # -- the purpose follows the request -------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """Return the requests of the declared purpose: complaints, or the others."""
        queryset = super().get_queryset(request)
        purpose = getattr(getattr(request, "access_context", None), "purpose", None)
        if purpose == "complaints":
            return queryset.filter(kind=CareRequest.Kind.COMPLAINT)
        if purpose == "customer_care":
            return queryset.exclude(kind=CareRequest.Kind.COMPLAINT)
        return queryset

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        """Open the request under its own purpose (declared for the session), or refuse it."""
        try:  # unfiltered: a request of the other purpose must be found to switch to it
            obj = CareRequest.objects.filter(pk=unquote(object_id)).first()
        except (ValueError, ValidationError):
            obj = None
        if obj is not None:
            if not user_may_declare(request.user, obj.purpose):
                access.access_denied(
                    subjects=[obj.customer_id], action=access.Action.VIEW, purpose=obj.purpose
                )
                return purpose_denied_response(
                    request,
                    reason=_("None of your roles grants the purpose of this request."),
                    purpose=obj.purpose,
                    site=self.admin_site,
                )
            self._declare(request, obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def _declare(self, request: HttpRequest, obj: CareRequest) -> None:
        declaration_set(request, purpose=obj.purpose, reference=obj.reference)
        request._purpose_granted = None

    def save_model(self, request: HttpRequest, obj: CareRequest, form: Any, change: bool) -> None:
        """Open through ``care_request_open``; reply, note, move and assign through services."""
        data = form.cleaned_data
        if not change:
            ctx = request.access_context
            ctx.purpose = services.purpose_for_kind(data["kind"])
            created = services.care_request_open(
                customer=data["customer"], kind=data["kind"], subject=data["subject"],
                body=data["body"],
            )
            for field in CareRequest._meta.concrete_fields:
                setattr(obj, field.attname, getattr(created, field.attname))
            obj._state.adding = False
            self._declare(request, obj)
            return
        current = CareRequest.objects.select_related("customer").get(pk=obj.pk)
        if data.get("internal_note"):
            services.care_message_add(request=current, body=data["internal_note"], internal=True)
        if data.get("reply"):
            services.care_message_add(request=current, body=data["reply"])
        if data["status"] != current.status:
            services.care_request_set_status(request=current, status=data["status"])
        if data.get("assignee") != current.assignee:
            services.care_request_assign(request=current, assignee=data.get("assignee"))
        if current.status == CareRequest.Status.CLOSED:
            declaration_end(request)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Nothing related is saved from this form (messages go through services)."""

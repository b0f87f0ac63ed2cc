"""Public pages: signup, the customer's own account overview, sign-in and the health check."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from consent.middleware import client_ip
from consent.models import ConsentRecord, Purpose
from consent.selectors import (
    consent_allows,
    consent_list_for_customer,
    policy_current,
    purpose_list,
)
from consent.services import consent_record
from rights.email_change import EmailChangeInvalid, email_change_send, email_change_verify
from rights.export import page_sections, with_labels
from rights.models import DataSubjectRequest
from rights.selectors import (
    access_log_for_customer,
    customer_export,
    customer_own,
    describe_access_rows,
    my_data_sections,
    request_list_for_customer,
    request_open_of_kind,
)
from rights.services import request_file, request_withdraw_closure

from .forms import (
    CorrectDataForm,
    CustomerPasswordResetForm,
    EmailChangeForm,
    PolicyDecisionForm,
    SignupForm,
    UpdateNoticesForm,
)
from .models import Customer
from .selectors import customer_get_own, email_in_use
from .services import customer_register, customer_update

# The one purpose a customer may switch off; the other four deliver the contracted service.
UPDATE_NOTICES = "update_notices"


@never_cache
def signup(request: HttpRequest) -> HttpResponse:
    policy = policy_current()
    if request.method == "POST":
        form = SignupForm(request.POST, current_policy=policy)
        if form.is_valid():
            data = form.cleaned_data
            customer = customer_register(
                business_name=data["business_name"],
                contact_person=data["contact_person"],
                phone=data["phone"],
                email=data["email"],
                password=data["password1"],
                language=get_language() or "vi",
                policy_version=policy,
                ip_address=client_ip(request),
                user_agent=request.headers.get("User-Agent", ""),
            )
            login(request, customer.user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Your account was created."))
            return redirect("accounts:home")
    else:
        form = SignupForm(current_policy=policy)
    return render(request, "accounts/signup.html", {"form": form, "policy": policy})


def customer_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let only a signed-in customer in; staff go to the admin, others to sign-in."""

    @wraps(view)
    @login_required(login_url="accounts:login")
    @never_cache
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not Customer.objects.filter(user=request.user).exists():
            return redirect("admin:index") if request.user.is_staff else redirect("accounts:signup")
        return view(request, *args, **kwargs)

    return wrapper


@customer_required
def home(request: HttpRequest) -> HttpResponse:
    """My data: everything stored about the customer and what it may be used for."""
    customer = customer_get_own(user=request.user)
    return render(
        request,
        "accounts/home.html",
        {
            "customer": customer,
            "consents": consent_list_for_customer(customer=customer),
            "purposes": purpose_list(),
            "requests": request_list_for_customer(customer=customer),
            "sections": my_data_sections(customer=customer),
        },
    )


class CustomerLoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return self.get_redirect_url() or reverse("accounts:home")


class CustomerLogoutView(auth_views.LogoutView):
    next_page = "accounts:login"


@transaction.non_atomic_requests
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Answer 200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up"})


class CustomerPasswordResetView(auth_views.PasswordResetView):
    """Password reset by email. The answer is the same whether or not the email is registered."""

    form_class = CustomerPasswordResetForm
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class CustomerPasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class CustomerPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class CustomerPasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


ACCESS_LOG_PAGE_SIZE = 50


@customer_required
def access_log(request: HttpRequest) -> HttpResponse:
    """Who used my data and why: staff accesses, and (apart) the customer's own."""
    customer = customer_own(user=request.user)
    self_access = request.GET.get("who") == "me"
    rows = access_log_for_customer(customer=customer, self_access=self_access)
    page = Paginator(rows, ACCESS_LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/access_log.html",
        {
            "page": page,
            "rows": describe_access_rows(page.object_list),
            "self_access": self_access,
        },
    )


@customer_required
def correct(request: HttpRequest) -> HttpResponse:
    """Correct my data: contact person and phone at once; email through a confirmation link."""
    customer = customer_get_own(user=request.user)
    data_form = CorrectDataForm(
        initial={"contact_person": customer.contact_person, "phone": customer.phone}
    )
    email_form = EmailChangeForm(user=request.user)
    if request.method == "POST" and "save_contact" in request.POST:
        data_form = CorrectDataForm(request.POST)
        if data_form.is_valid():
            request.access_context.reason = "correction by the customer"
            changed = customer_update(
                customer=customer,
                contact_person=data_form.cleaned_data["contact_person"],
                phone=data_form.cleaned_data["phone"],
            )
            if changed:
                messages.success(request, _("Your data was corrected."))
            else:
                messages.info(request, _("Nothing changed."))
            return redirect("accounts:correct")
    elif request.method == "POST" and "change_email" in request.POST:
        email_form = EmailChangeForm(request.POST, user=request.user)
        if email_form.is_valid():
            notice = email_change_send(
                request=request, user=request.user, new_email=email_form.cleaned_data["email"]
            )
            if notice.status == notice.Status.FAILED:
                email_form.add_error(
                    "email",
                    _("We could not send the confirmation link just now. Try again later."),
                )
            else:
                messages.success(
                    request,
                    _(
                        "We sent a confirmation link to %(email)s. Your email changes when you "
                        "open it."
                    )
                    % {"email": email_form.cleaned_data["email"]},
                )
                return redirect("accounts:correct")
    return render(
        request,
        "accounts/correct.html",
        {"customer": customer, "data_form": data_form, "email_form": email_form},
    )


@customer_required
def email_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Apply an email change confirmed through the signed link sent to the new address."""
    try:
        new_email = email_change_verify(token=token, user=request.user)
    except EmailChangeInvalid:
        messages.error(
            request,
            _("This confirmation link is invalid, expired or already used. Ask for a new one."),
        )
        return redirect("accounts:correct")
    taken = _("This email cannot be used. Choose another one.")
    if email_in_use(new_email, exclude_user_id=request.user.pk):
        messages.error(request, taken)
        return redirect("accounts:correct")
    customer = customer_own(user=request.user)
    request.access_context.reason = "email change confirmed by the customer"
    try:
        # A savepoint (customer_update has none): the refused save must not doom the request's
        # transaction, which goes on to answer and commits what the request logged.
        with transaction.atomic():
            customer_update(customer=customer, email=new_email)
    except (ValidationError, IntegrityError):
        # Taken by another login between the check and the save: the constraint decides.
        messages.error(request, taken)
        return redirect("accounts:correct")
    # The login's email changed: keep the customer signed in on this device.
    update_session_auth_hash(request, customer.user)
    messages.success(request, _("Your email is now %(email)s.") % {"email": new_email})
    return redirect("accounts:correct")


@customer_required
def consents(request: HttpRequest) -> HttpResponse:
    """Per-purpose consents: update notices can be switched off and on; the rest are needed."""
    customer = customer_own(user=request.user)
    allowed = consent_allows(customer=customer, purpose_code=UPDATE_NOTICES)
    form = UpdateNoticesForm(initial={"update_notices": allowed})
    if request.method == "POST":
        form = UpdateNoticesForm(request.POST)
        if form.is_valid():
            wanted = form.cleaned_data["update_notices"]
            if wanted != allowed:
                consent_record(
                    customer=customer,
                    policy_version=policy_current(),
                    language=get_language() or "vi",
                    ip_address=client_ip(request),
                    user_agent=request.headers.get("User-Agent", ""),
                    kind=ConsentRecord.Kind.ACCEPTED if wanted else ConsentRecord.Kind.WITHDRAWN,
                    purpose=Purpose.objects.get(code=UPDATE_NOTICES),
                )
                messages.success(
                    request,
                    _("Update notices are switched on.")
                    if wanted
                    else _("Update notices are switched off. We will send you none from now on."),
                )
            return redirect("accounts:consents")
    return render(
        request,
        "accounts/consents.html",
        {
            "form": form,
            "allowed": allowed,
            "purposes": purpose_list(),
            "optional_code": UPDATE_NOTICES,
            "history": consent_list_for_customer(customer=customer).filter(purpose__isnull=False),
        },
    )


@customer_required
def download(request: HttpRequest) -> HttpResponse:
    """The page offering the two downloads (nothing personal is shown here)."""
    return render(request, "accounts/download.html")


@customer_required
def download_json(request: HttpRequest) -> HttpResponse:
    """Everything stored about me, machine-readable (docs/DATA-EXPORT.md); logged as export."""
    data = customer_export(customer=customer_own(user=request.user))
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="excelcrm-my-data-{stamp}.json"'
    return response


@customer_required
def download_print(request: HttpRequest) -> HttpResponse:
    """Everything stored about me as a printable page; logged as export."""
    data = customer_export(customer=customer_own(user=request.user))
    return render(
        request,
        "accounts/print.html",
        {"data": with_labels(data), "sections": page_sections(data)},
    )


@customer_required
def policy_accept(request: HttpRequest) -> HttpResponse:
    """Read the new policy version and accept it, or decline (which asks to close the account)."""
    policy = policy_current()
    customer = customer_own(user=request.user)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    language = "en" if (get_language() or "vi").startswith("en") else "vi"
    form = PolicyDecisionForm(current_policy=policy)
    if request.method == "POST":
        form = PolicyDecisionForm(request.POST, current_policy=policy)
        if form.is_valid():
            if form.cleaned_data["decision"] == "accept":
                consent_record(
                    customer=customer,
                    policy_version=policy,
                    language=language,
                    ip_address=client_ip(request),
                    user_agent=request.headers.get("User-Agent", ""),
                )
                messages.success(
                    request,
                    _("Thank you. You accepted policy version %(label)s.")
                    % {"label": policy.label},
                )
                withdrawn = request_withdraw_closure(customer=customer)
                if withdrawn is not None:
                    messages.info(
                        request,
                        _("Your request #%(id)s to close your account was withdrawn.")
                        % {"id": withdrawn.pk},
                    )
                # A URL, never a view name: redirect("0") would look up a view called "0".
                return HttpResponseRedirect(next_url or reverse("accounts:home"))
            if not request_open_of_kind(customer=customer, kind=DataSubjectRequest.Kind.CLOSURE):
                request_file(
                    customer=customer,
                    kind=DataSubjectRequest.Kind.CLOSURE,
                    reason=f"Declined privacy policy version {policy.label}.",
                )
            logout(request)
            messages.info(
                request,
                _(
                    "You declined the new privacy policy. We filed a request to close your account "
                    "and erase your data; you can withdraw it by signing in and accepting the "
                    "policy."
                ),
            )
            return redirect("accounts:login")
    return render(
        request,
        "accounts/policy_accept.html",
        {
            "policy": policy,
            "text": policy.text_for(language),
            "sha256": policy.sha256_for(language),
            "form": form,
            "next": next_url,
        },
    )

"""Public pages: signup, the customer's own account overview, sign-in and the health check."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from consent.middleware import client_ip
from consent.selectors import consent_list_for_customer, policy_current, purpose_list

from .forms import SignupForm
from .models import Customer
from .selectors import customer_get_own
from .services import customer_register


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


@login_required(login_url="accounts:login")
@never_cache
def home(request: HttpRequest) -> HttpResponse:
    """The customer's own account: what is stored about them and what it may be used for."""
    try:
        customer = customer_get_own(user=request.user)
    except Customer.DoesNotExist:
        return redirect("admin:index") if request.user.is_staff else redirect("accounts:signup")
    return render(
        request,
        "accounts/home.html",
        {
            "customer": customer,
            "consents": consent_list_for_customer(customer=customer),
            "purposes": purpose_list(),
        },
    )


class CustomerLoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


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

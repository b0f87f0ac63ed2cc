"""The customer's support pages: their requests, a new request, one request with its messages."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts.models import Customer

from .forms import CareRequestForm, MessageForm
from .models import CareRequest
from .selectors import care_request_get_own, care_requests_for_customer
from .services import care_message_add, care_request_open


def _own_customer(request: HttpRequest) -> Customer:
    try:
        return Customer.objects.get(user=request.user)
    except Customer.DoesNotExist as exc:
        raise Http404 from exc


@login_required(login_url="accounts:login")
@never_cache
def request_list(request: HttpRequest) -> HttpResponse:
    customer = _own_customer(request)
    return render(
        request,
        "care/request_list.html",
        {"care_requests": care_requests_for_customer(customer=customer)},
    )


@login_required(login_url="accounts:login")
@never_cache
def request_new(request: HttpRequest) -> HttpResponse:
    customer = _own_customer(request)
    form = CareRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        care_request = care_request_open(
            customer=customer, kind=data["kind"], subject=data["subject"], body=data["body"]
        )
        messages.success(request, _("Your request was sent. We will answer here."))
        return redirect("care:detail", pk=care_request.pk)
    return render(
        request,
        "care/request_new.html",
        {
            "form": form,
            "due_days": settings.CARE_REQUEST_DUE_WORKING_DAYS,
            "ack_days": settings.CARE_COMPLAINT_ACK_WORKING_DAYS,
            "resolve_days": settings.CARE_COMPLAINT_RESOLVE_DAYS,
        },
    )


@login_required(login_url="accounts:login")
@never_cache
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _own_customer(request)
    try:
        care_request, thread = care_request_get_own(customer=customer, pk=pk)
    except CareRequest.DoesNotExist as exc:
        raise Http404 from exc
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            care_message_add(request=care_request, body=form.cleaned_data["body"])
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error("body", message)
        else:
            messages.success(request, _("Your message was sent."))
            return redirect("care:detail", pk=care_request.pk)
    return render(
        request,
        "care/request_detail.html",
        {"care_request": care_request, "thread": thread, "form": form},
    )

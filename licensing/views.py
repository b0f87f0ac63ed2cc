"""The customer's licences page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from accounts.models import Customer

from .selectors import licence_list_for_customer


@login_required(login_url="accounts:login")
@never_cache
def my_licences(request: HttpRequest) -> HttpResponse:
    try:
        customer = Customer.objects.get(user=request.user)
    except Customer.DoesNotExist as exc:
        raise Http404 from exc
    return render(
        request,
        "licensing/my_licences.html",
        {"licences": licence_list_for_customer(customer=customer)},
    )

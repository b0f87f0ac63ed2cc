"""The customer's data-subject requests at /account/requests/."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.views import customer_required

from .forms import RequestFileForm
from .models import DataSubjectRequest
from .selectors import customer_own, request_list_for_customer
from .services import request_file, request_withdraw


@customer_required
def request_list(request: HttpRequest) -> HttpResponse:
    """File a request and see each request's status and dates."""
    customer = customer_own(user=request.user)
    form = RequestFileForm()
    if request.method == "POST":
        form = RequestFileForm(request.POST)
        if form.is_valid():
            filed = request_file(
                customer=customer,
                kind=form.cleaned_data["kind"],
                reason=form.cleaned_data["reason"],
            )
            days = settings.RIGHTS_ACKNOWLEDGE_WORKING_DAYS
            messages.success(
                request,
                ngettext(
                    "Your request #%(id)s was filed. We acknowledge it within %(days)d working "
                    "day.",
                    "Your request #%(id)s was filed. We acknowledge it within %(days)d working "
                    "days.",
                    days,
                )
                % {"id": filed.pk, "days": days},
            )
            return redirect("rights:requests")
    return render(
        request,
        "rights/requests.html",
        {
            "form": form,
            "requests": request_list_for_customer(customer=customer),
            "acknowledge_days": settings.RIGHTS_ACKNOWLEDGE_WORKING_DAYS,
            "complete_days": settings.RIGHTS_COMPLETE_DAYS,
            "extension_days": settings.RIGHTS_EXTENSION_MAX_DAYS,
        },
    )


@customer_required
@require_POST
def request_withdraw_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer withdraws one of their own requests."""
    customer = customer_own(user=request.user)
    try:
        own = request_list_for_customer(customer=customer).get(pk=pk)
    except DataSubjectRequest.DoesNotExist as exc:
        raise Http404 from exc
    try:
        request_withdraw(request=own)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Request #%(id)s was withdrawn.") % {"id": own.pk})
    return redirect("rights:requests")

"""The compliance reviewers' pages at /audit/: read-only, for reviewers and superusers."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import user_passes_test
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from consent.context import Channel
from consent.models import AccessLog
from consent.purposes import COMPLIANCE_REVIEWER

from . import reports, sealing
from .forms import (
    AccessFilterForm,
    ReportForm,
    RevealForm,
    VerifyForm,
    cursor_token,
    day_start,
    local_zone,
)
from .models import ReviewerActivity, Seal, Verification
from .rollup import rollup_through
from .selectors import (
    EXPORT_COLUMNS,
    access_log_csv,
    access_log_page,
    activity_list,
    actor_labels,
    change_reveal,
    customer_names,
    dossier_get,
)
from .services import activity_record

Activity = ReviewerActivity.Action


def is_reviewer(user: Any) -> bool:
    """Return True for an active superuser or member of the Compliance reviewer group."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or user.groups.filter(name=COMPLIANCE_REVIEWER).exists()


def reviewer_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let reviewers in; send everyone else (customers included) to the staff sign-in."""
    checked = user_passes_test(is_reviewer, login_url="admin:login")(view)

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = checked(request, *args, **kwargs)
        response.headers.setdefault("Cache-Control", "no-store, private")
        return response

    return never_cache(wrapper)


@reviewer_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "audit/index.html", {"head": sealing.head()})


@reviewer_required
@require_GET
def access_explorer(request: HttpRequest) -> HttpResponse:
    """Search the access log (keyset pages; the search is recorded in the reviewer trail)."""
    form = AccessFilterForm(request.GET or None)
    context: dict[str, Any] = {"form": form, "rows": [], "searched": False}
    if form.is_bound and form.is_valid():
        flt = form.to_filter()
        page = access_log_page(
            flt=flt, after=form.cleaned_data["after"], size=settings.AUDIT_PAGE_SIZE
        )
        activity_record(actor=request.user, action=Activity.SEARCH, detail=flt.describe())
        params = request.GET.copy()
        params.pop("after", None)
        if page.next_cursor:
            params["after"] = cursor_token(*page.next_cursor)
            context["next_query"] = params.urlencode()
        params.pop("after", None)
        context.update(
            searched=True,
            rows=_explorer_rows(page.rows),
            first_query=params.urlencode(),
            filter_text=flt.describe(),
        )
    return render(request, "audit/access_explorer.html", context)


def _explorer_rows(rows: list[AccessLog]) -> list[dict[str, Any]]:
    """Return what each explorer row shows, prepared once per page.

    Labels, local times and dossier links are built here rather than by template filters: per
    row, ``get_FOO_display`` rebuilds the choice map and ``{% url %}`` resolves again, which made
    50 rows cost more than the query at ten million rows.
    """
    actors = actor_labels(r.actor_id for r in rows)
    customers = customer_names(r.customer_id for r in rows)
    actions = {value: str(label) for value, label in AccessLog.Action.choices}
    outcomes = {value: str(label) for value, label in AccessLog.Outcome.choices}
    dossier = reverse("audit:dossier", args=[0])[: -len("0/")]
    return [
        {
            "row": r,
            "actor": actors.get(r.actor_id, ""),
            "business_name": customers.get(r.customer_id, ""),
            "time": timezone.localtime(r.at).strftime("%Y-%m-%d %H:%M:%S"),
            "action": actions.get(r.action, r.action),
            "outcome": outcomes.get(r.outcome, r.outcome),
            "dossier_url": f"{dossier}{r.customer_id}/" if r.customer_id else "",
        }
        for r in rows
    ]


@reviewer_required
@require_GET
def access_export(request: HttpRequest) -> HttpResponse:
    """Stream exactly the filtered rows as CSV, after a line stating the filter and the time."""
    form = AccessFilterForm(request.GET)
    if not form.is_valid():
        return render(
            request,
            "audit/access_explorer.html",
            {"form": form, "rows": [], "searched": False},
            status=400,
        )
    flt = form.to_filter()
    activity_record(actor=request.user, action=Activity.EXPORT, detail=flt.describe())
    exported_at = timezone.localtime(timezone.now(), local_zone())
    header = io.StringIO()
    writer = csv.writer(header, lineterminator="\n")
    writer.writerow(
        [
            f"# ExcelCRM access log export; filter: {flt.describe()}; "
            f"exported at {exported_at.isoformat()} by {request.user.email}; "
            f"time_local is {settings.TIME_ZONE}"
        ]
    )
    writer.writerow(EXPORT_COLUMNS)

    def lines() -> Iterator[bytes]:
        yield header.getvalue().encode()
        yield from access_log_csv(flt, zone=settings.TIME_ZONE)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = exported_at.strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="access-log-{stamp}.csv"'
    return response


def _dossier_or_404(customer_id: int) -> tuple[Any, list[Any]]:
    from accounts.models import Customer

    try:
        return dossier_get(customer_id=customer_id)
    except Customer.DoesNotExist as exc:
        raise Http404 from exc


@reviewer_required
@require_GET
def customer_dossier(request: HttpRequest, customer_id: int) -> HttpResponse:
    """One customer's printable dossier: consent, changes, accesses, device permissions and
    notices on one timeline."""
    customer, events = _dossier_or_404(customer_id)
    activity_record(actor=request.user, action=Activity.DOSSIER, detail="", customer_id=customer.pk)
    return render(
        request,
        "audit/dossier.html",
        {
            "customer": customer,
            "events": events,
            "generated_at": timezone.now(),
            "reveal_form": RevealForm(),
        },
    )


@reviewer_required
@require_POST
def change_reveal_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Show one change's values in clear, given a reason; logged under ``complaints``."""
    form = RevealForm(request.POST)
    if not form.is_valid():
        customer, events = _dossier_or_404(customer_id)
        return render(
            request,
            "audit/dossier.html",
            {
                "customer": customer,
                "events": events,
                "generated_at": timezone.now(),
                "reveal_form": form,
                "reveal_error_key": request.POST.get("change", ""),
            },
            status=400,
        )
    from accounts.models import Customer

    try:
        customer = Customer.objects.select_related("user").get(pk=customer_id)
    except Customer.DoesNotExist as exc:
        raise Http404 from exc
    reason = form.cleaned_data["reason"]
    change = change_reveal(customer=customer, key=form.cleaned_data["change"], reason=reason)
    if change is None:
        raise Http404
    activity_record(
        actor=request.user,
        action=Activity.REVEAL,
        detail=f"change={change.key}; reason={reason}",
        customer_id=customer.pk,
    )
    return render(
        request,
        "audit/reveal.html",
        {
            "customer": customer,
            "change": change,
            "reason": reason,
            "actor": actor_labels([change.actor_id]).get(change.actor_id, ""),
        },
    )


@reviewer_required
@require_GET
def report_view(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return render(request, "audit/reports.html", {"form": form}, status=400)
    start, end = form.period()
    activity_record(
        actor=request.user,
        action=Activity.REPORT,
        detail=f"from={start.isoformat()}, before={end.isoformat()}",
    )
    seconds = settings.AUDIT_REPORT_QUERY_SECONDS
    try:
        with reports.query_time_limit(seconds):
            top = reports.top_actors(start, end)
            denied = reports.denied_attempts(start, end)
            bulk = reports.bulk_access_alerts(start, end)
            ungranted = reports.ungranted_accesses(start, end)
            chart = reports.weekly_by_purpose(start, end)
    except reports.ReportTooSlow:
        form = form.with_period_error(
            _(
                "A figure of this period took longer than %(seconds)s seconds to compute and was"
                " stopped. Choose a shorter period."
            ) % {"seconds": f"{seconds:g}"}
        )
        return render(request, "audit/reports.html", {"form": form}, status=400)
    ids = [r["actor_id"] for r in top] + [r.actor_id for r in denied]
    ids += [r["actor_id"] for r in bulk] + [r.actor_id for r in ungranted]
    labels = actor_labels(ids)
    for item in [*top, *bulk]:
        item["actor_label"] = labels.get(item["actor_id"], item["actor_id"])
    for row in [*denied, *ungranted]:
        row.actor_label = labels.get(row.actor_id, row.actor_id or "—")
    return render(
        request,
        "audit/reports.html",
        {
            "form": form,
            "start": start,
            "end": end - datetime.timedelta(days=1),
            "chart": chart,
            "rolled_through": rollup_through(),
            "top": top,
            "denied": denied,
            "bulk": bulk,
            "ungranted": ungranted,
            "threshold": settings.AUDIT_BULK_ACCESS_THRESHOLD,
        },
    )


@reviewer_required
@require_http_methods(["GET", "POST"])
def integrity(request: HttpRequest) -> HttpResponse:
    """The head digest to copy outside the database, the last verification, and a check."""
    form = VerifyForm(request.POST or None)
    result = None
    if request.method == "POST" and form.is_valid():
        since_day = form.cleaned_data["since"]
        since = day_start(since_day) if since_day else None
        result = sealing.verify_seals(since=since)
        sealing.verification_record(
            result=result, actor=request.user, channel=Channel.AUDIT, since=since
        )
        outcome = "ok" if result.ok else f"FAILED at seal #{result.first_bad.pk}"
        activity_record(
            actor=request.user,
            action=Activity.VERIFY,
            detail=f"since={since.isoformat() if since else 'all'}; {outcome}",
        )
    head = sealing.head()
    return render(
        request,
        "audit/integrity.html",
        {
            "form": form,
            "result": result,
            "head": head,
            "seal_count": Seal.objects.count(),
            "last": Verification.objects.select_related("actor").first(),
            "unsealed": _unsealed_count(head),
            "unsealed_cap": UNSEALED_COUNT_CAP,
        },
        status=400 if form.errors else 200,
    )


UNSEALED_COUNT_CAP = 100_000


def _unsealed_count(head: Seal | None) -> int:
    """Count rows after the head seal, stopping at UNSEALED_COUNT_CAP + 1 (no full scan)."""
    after = head.last_id if head else 0
    ids = AccessLog.objects.filter(id__gt=after).order_by().values("id")[: UNSEALED_COUNT_CAP + 1]
    return ids.count()


@reviewer_required
@require_GET
def activity(request: HttpRequest) -> HttpResponse:
    """The reviewer-activity trail, readable by every reviewer."""
    before = request.GET.get("before", "")
    rows = activity_list(before=int(before) if before.isdigit() else None)
    return render(
        request,
        "audit/activity.html",
        {"rows": rows, "next_before": rows[-1].pk if len(rows) == 100 else None},
    )

"""The billing page (plan, period, usage bars, invoices, the buttons to change plan) and the
usage page (this period's charts)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from accounts.selectors import agency_get_for_member, membership_list
from billing.models import Plan, Subscription, UsageCounter
from billing.selectors import billing_overview, usage_report
from billing.services import metric_label, period_start_of, subscription_for
from billing.subscriptions import check_can_manage, plan_change_start, portal_start
from photolisting.errors import ApplicationError


def _subscription(request: HttpRequest, agency_id: str | None) -> Subscription:
    if agency_id:
        return subscription_for(
            agency=agency_get_for_member(user=request.user, agency_id=agency_id)
        )
    return subscription_for(user=request.user)


def _back(agency_id: str | None):
    return redirect(f"/billing/?agency={agency_id}" if agency_id else "/billing/")


def _can_manage(request: HttpRequest, subscription: Subscription) -> bool:
    try:
        check_can_manage(user=request.user, subscription=subscription)
    except ApplicationError:
        return False
    return True


@login_required
def billing_page(request: HttpRequest) -> HttpResponse:
    agency_id = request.GET.get("agency") or None
    try:
        subscription = _subscription(request, agency_id)
    except ApplicationError:
        return render(request, "404.html", status=404)
    if request.GET.get("checkout") == "success":
        messages.success(
            request, gettext("Thank you! Your plan is updated as soon as Stripe confirms it.")
        )
    return render(
        request,
        "billing/billing.html",
        {
            "overview": billing_overview(subscription=subscription),
            "subscription": subscription,
            "agency_id": agency_id,
            "can_manage": _can_manage(request, subscription),
            "memberships": membership_list(user=request.user),
        },
    )


@login_required
def usage_page(request: HttpRequest) -> HttpResponse:
    agency_id = request.GET.get("agency") or None
    try:
        subscription = _subscription(request, agency_id)
    except ApplicationError:
        return render(request, "404.html", status=404)
    return render(
        request,
        "billing/usage.html",
        {
            "report": usage_report(subscription=subscription),
            "subscription": subscription,
            "agency_id": agency_id,
            "memberships": membership_list(user=request.user),
        },
    )


@login_required
@require_POST
def checkout(request: HttpRequest) -> HttpResponse:
    agency_id = request.POST.get("agency") or None
    try:
        plan = Plan.objects.get(code=request.POST.get("plan", ""))
        url = plan_change_start(
            user=request.user,
            subscription=_subscription(request, agency_id),
            plan=plan,
            interval=request.POST.get("interval", "month"),
        )
    except (ApplicationError, Plan.DoesNotExist) as error:
        messages.error(request, getattr(error, "message", gettext("No such plan.")))
        return _back(agency_id)
    return redirect(url)


@login_required
@require_POST
def portal(request: HttpRequest) -> HttpResponse:
    agency_id = request.POST.get("agency") or None
    try:
        url = portal_start(user=request.user, subscription=_subscription(request, agency_id))
    except ApplicationError as error:
        messages.error(request, error.message)
        return _back(agency_id)
    return redirect(url)


def usage_warnings(request: HttpRequest) -> dict:
    """Context processor: a banner when the user's own or an agency's usage passed 80%."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    subscriptions = [subscription_for(user=user)] + [
        subscription_for(agency=m.agency) for m in membership_list(user=user)
    ]
    warnings = []
    for subscription in subscriptions:
        for counter in UsageCounter.objects.filter(
            subject=subscription.subject_key,
            period_start=period_start_of(subscription),
            warned_percent__gt=0,
        ):
            owner = subscription.agency.name if subscription.agency_id else gettext("Your plan")
            warnings.append(
                {
                    "text": gettext("%(owner)s: %(percent)s%% of %(metric)s used this period.")
                    % {
                        "owner": owner,
                        "percent": counter.warned_percent,
                        "metric": metric_label(counter.metric),
                    },
                    "agency": subscription.agency_id,
                }
            )
    return {"usage_warnings": warnings}

"""Billing's answers to what accounts and projects announce: seats and projects are limited by
the plan, and the paid seat quantity follows the team."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext, ngettext

from accounts.models import Agency, User
from billing.entitlements import UPGRADE_URL, NotInPlan
from billing.models import Plan
from billing.services import QuotaExceeded, plan_name, subscription_for
from billing.tasks import sync_agency_seats
from projects.models import Project


def refuse_seat_over_plan(sender, *, agency: Agency, seats_used: int, **kwargs) -> None:
    plan = subscription_for(agency=agency).plan
    if seats_used >= plan.seats:
        raise QuotaExceeded(
            ngettext(
                "The %(plan)s plan includes %(seats)s seat and it is taken. Upgrade the "
                "agency's plan on the billing page to add members.",
                "The %(plan)s plan includes %(seats)s seats and all are taken. Upgrade the "
                "agency's plan on the billing page to add members.",
                plan.seats,
            )
            % {"plan": plan_name(plan), "seats": plan.seats},
            code="seat_limit",
            details={"seats": plan.seats, "used": seats_used, "upgrade_url": UPGRADE_URL},
        )


def sync_seats_after_commit(sender, *, agency: Agency, **kwargs) -> None:
    transaction.on_commit(lambda: sync_agency_seats.delay(agency.id))


def refuse_project_over_plan(
    sender, *, user: User, agency: Agency | None, **kwargs: object
) -> None:
    """Answers ``projects.signals.project_requested``: the plan's ``projects_limit`` counts the
    projects of whoever would own the new one."""
    plan = subscription_for(user=None if agency else user, agency=agency).plan
    if plan.projects_limit is None:
        return
    owned = Q(agency=agency) if agency else Q(owner=user, agency__isnull=True)
    count = Project.objects.filter(owned).count()
    if count < plan.projects_limit:
        return
    upgrade = (
        Plan.objects.filter(Q(projects_limit__isnull=True) | Q(projects_limit__gt=count))
        .order_by("position")
        .first()
    )
    raise NotInPlan(
        gettext(
            "The %(plan)s plan includes %(limit)s projects and they are all in use. Delete a "
            "project or upgrade on the billing page."
        )
        % {"plan": plan_name(plan), "limit": plan.projects_limit},
        code="projects_limit",
        details={
            "plan": plan.code,
            "limit": plan.projects_limit,
            "used": count,
            "required_plan": upgrade.code if upgrade else None,
            "upgrade_url": UPGRADE_URL,
        },
    )

"""Billing's answers to what accounts announces: seats are limited by the agency's plan, and
the paid seat quantity follows the team."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import ngettext

from accounts.models import Agency
from billing.services import QuotaExceeded, plan_name, subscription_for
from billing.tasks import sync_agency_seats


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
            details={"seats": plan.seats, "used": seats_used, "upgrade_url": "/billing/"},
        )


def sync_seats_after_commit(sender, *, agency: Agency, **kwargs) -> None:
    transaction.on_commit(lambda: sync_agency_seats.delay(agency.id))

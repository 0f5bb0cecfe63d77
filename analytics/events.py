"""Recording usage events: the one call a service makes when something worth counting happens.

Services record inside their own transaction, so an event exists exactly when what it describes
was committed. Apps below ``billing`` do not know plans: billing registers a resolver at start
(``plan_resolver_set``) that names the subject's plan when the caller does not."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from analytics.models import UsageEvent

Kind = UsageEvent.Kind
PlanResolver = Callable[[int | None, int | None], str]

_plan_resolver: PlanResolver | None = None


def plan_resolver_set(resolver: PlanResolver | None) -> None:
    """Billing's answer to "which plan is (user id, agency id) on?", set when it starts."""
    global _plan_resolver
    _plan_resolver = resolver


def record(
    kind: str,
    *,
    user_id: int | None = None,
    agency_id: int | None = None,
    plan: str | None = None,
    operation: str = "",
    duration_ms: int | None = None,
    provider_cost: Decimal | float | int = 0,
    ai_edits: int = 0,
    project_id: object = None,
    metadata: dict | None = None,
    occurred_at: datetime | None = None,
) -> UsageEvent:
    """Stores one event now (or at ``occurred_at``), naming the subject's plan."""
    if plan is None:
        plan = _plan_resolver(user_id, agency_id) if _plan_resolver else ""
    return UsageEvent.objects.create(
        kind=kind,
        occurred_at=occurred_at or timezone.now(),
        user_id=user_id,
        agency_id=agency_id,
        plan=plan or "",
        operation=operation[:60],
        duration_ms=duration_ms,
        provider_cost=Decimal(str(provider_cost)),
        ai_edits=ai_edits,
        project_id=project_id,
        metadata=metadata or {},
    )

"""Writes to the API request log."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from gateway.models import ApiRequest
from photolisting.observability import current_request_id


def api_request_record(*, request: HttpRequest, status: int, duration_ms: float) -> ApiRequest:
    """One call: the route pattern, never the path (it may hold ids or a signed token)."""
    match = request.resolver_match
    user = getattr(request, "user", None)
    return ApiRequest.objects.create(
        method=request.method[:8],
        route=(match.route if match else "")[:200],
        status=status,
        duration_ms=round(duration_ms, 2),
        user=user if user is not None and user.is_authenticated else None,
        request_id=(current_request_id() or "")[:64],
    )


def api_requests_purge(now=None) -> int:
    """Drops entries older than API_LOG_RETENTION_DAYS; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.API_LOG_RETENTION_DAYS)
    deleted, _ = ApiRequest.objects.filter(created_at__lt=cutoff).delete()
    return deleted

"""Writes to the API request log.

Entries are kept in the process and written together (``API_LOG_BATCH_SIZE`` at a time, or once
the oldest is ``API_LOG_BATCH_SECONDS`` old, at the next call; at once for a server error; and
when the process exits): a database commit on one call in ten cost the API about a tenth of its
throughput under load (``bench/api_load.py``). A process killed outright loses its unwritten
entries — a sample, never anything a person stored.
"""

from __future__ import annotations

import atexit
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from gateway.models import ApiRequest
from photolisting.observability import current_request_id

_pending: list[ApiRequest] = []
_oldest = 0.0  # time.monotonic() of the first pending entry
_lock = threading.Lock()
_exit_hook = threading.Event()


def api_request_record(*, request: HttpRequest, status: int, duration_ms: float) -> None:
    """One call: the route pattern, never the path (it may hold ids or a signed token)."""
    global _oldest
    match = request.resolver_match
    user = getattr(request, "user", None)
    entry = ApiRequest(
        created_at=timezone.now(),
        method=request.method[:8],
        route=(match.route if match else "")[:200],
        status=status,
        duration_ms=round(duration_ms, 2),
        user_id=user.pk if user is not None and user.is_authenticated else None,
        request_id=(current_request_id() or "")[:64],
    )
    with _lock:
        if not _pending:
            _oldest = time.monotonic()
        _pending.append(entry)
        due = (
            status >= 500
            or len(_pending) >= settings.API_LOG_BATCH_SIZE
            or time.monotonic() - _oldest >= settings.API_LOG_BATCH_SECONDS
        )
    if not _exit_hook.is_set():
        _exit_hook.set()
        atexit.register(api_requests_flush)
    if due:
        api_requests_flush()


def api_requests_flush() -> int:
    """Writes the pending entries in one statement; returns how many."""
    with _lock:
        entries = _pending[:]
        _pending.clear()
    if entries:
        try:
            _write(entries)
        except IntegrityError:  # a caller deleted between the check and the write
            _write(entries)
    return len(entries)


def _write(entries: list[ApiRequest]) -> None:
    """A caller deleted since their call is written as no one (the column's own rule), not a
    reason to lose the batch."""
    callers = {entry.user_id for entry in entries} - {None}
    present = set(get_user_model().objects.filter(pk__in=callers).values_list("pk", flat=True))
    for entry in entries:
        if entry.user_id not in present:
            entry.user_id = None
    with transaction.atomic():
        ApiRequest.objects.bulk_create(entries)


def api_requests_purge(now=None) -> int:
    """Drops entries older than API_LOG_RETENTION_DAYS; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.API_LOG_RETENTION_DAYS)
    deleted, _ = ApiRequest.objects.filter(created_at__lt=cutoff).delete()
    return deleted

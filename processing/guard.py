"""Whether the AI provider may be paid right now, and how often a job may ask.

Before every provider request: the ``ai_provider_enabled`` switch, the ``ai_daily_budget_usd``
switch against today's ledger, and the circuit breaker of the (provider, operation) pair. A ``no``
is ``ProviderWait``: the job goes back to the queue, parked (not failed, no call, no attempt used),
and ``processing.services.jobs_release_waiting`` (beat, every minute) sends it again once the
reason has cleared.

The circuit breaker lives in the database (``ProviderCircuit``) so every worker shares it:
``AI_CIRCUIT_FAILURES`` 5xx/timeouts in a row open it for ``AI_CIRCUIT_COOLDOWN`` seconds (staff
are emailed); then one job, and only one, is let through as a probe; its success closes the
circuit, its failure opens it again for twice as long (up to ``AI_CIRCUIT_MAX_COOLDOWN``).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from processing.models import ProviderCircuit
from processing.spend import spent_on
from runtime import switches

logger = logging.getLogger(__name__)

WAIT_PROVIDER_DOWN = "provider_down"
WAIT_BUDGET = "ai_budget_reached"
WAIT_PAUSED = "ai_paused"
WAIT_CODES = (WAIT_PROVIDER_DOWN, WAIT_BUDGET, WAIT_PAUSED)
State = ProviderCircuit.State


class ProviderWait(Exception):
    """No provider call now; the job waits for ``code`` to clear."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def budget_reached() -> bool:
    budget = switches.value("ai_daily_budget_usd")
    return budget is not None and spent_on(timezone.localdate()) >= budget


def check_may_pay(provider: str, operation: str) -> None:
    """Raises ProviderWait unless a provider request may be made now (this caller may be the
    circuit's probe)."""
    if not switches.value("ai_provider_enabled"):
        raise ProviderWait(WAIT_PAUSED)
    if budget_reached():
        raise ProviderWait(WAIT_BUDGET)
    circuit, _ = ProviderCircuit.objects.get_or_create(provider=provider, operation=operation)
    if circuit.state == State.CLOSED:
        return
    now = timezone.now()
    # Compare-and-set: of all workers finding the cooling period over, one becomes the probe.
    # A probe that died (its deadline passed) is replaced the same way.
    if ProviderCircuit.objects.filter(
        pk=circuit.pk, state__in=[State.OPEN, State.PROBING], retry_at__lte=now
    ).update(state=State.PROBING, retry_at=now + timedelta(seconds=settings.OPENAI_TIMEOUT * 2)):
        logger.info("AI circuit %s/%s: probing", provider, operation)
        return
    raise ProviderWait(WAIT_PROVIDER_DOWN)


def circuit_due(provider: str, operation: str) -> str:
    """``closed`` (calls go through), ``due`` (a probe may be sent) or ``down``."""
    circuit = ProviderCircuit.objects.filter(provider=provider, operation=operation).first()
    if circuit is None or circuit.state == State.CLOSED:
        return "closed"
    return "due" if circuit.retry_at and circuit.retry_at <= timezone.now() else "down"


def record_success(provider: str, operation: str) -> None:
    """The provider answered (an edit, or a refusal: it is up). Closes an open circuit."""
    reopened = ProviderCircuit.objects.filter(provider=provider, operation=operation).exclude(
        state=State.CLOSED, failures=0
    )
    if reopened.exclude(state=State.CLOSED).exists():
        logger.warning("AI circuit %s/%s: closed, the provider answers again", provider, operation)
    reopened.update(state=State.CLOSED, failures=0, cooldown=0, retry_at=None)


def record_failure(provider: str, operation: str, error: Exception) -> None:
    """A 5xx or timeout: counts towards opening the circuit, or reopens it after a failed probe."""
    with transaction.atomic():
        circuit, _ = ProviderCircuit.objects.get_or_create(provider=provider, operation=operation)
        circuit = ProviderCircuit.objects.select_for_update().get(pk=circuit.pk)
        circuit.failures += 1
        circuit.last_error = str(error)[:300]
        opening = circuit.state == State.CLOSED and circuit.failures >= settings.AI_CIRCUIT_FAILURES
        if circuit.state == State.PROBING:
            circuit.cooldown = min(
                settings.AI_CIRCUIT_MAX_COOLDOWN,
                max(settings.AI_CIRCUIT_COOLDOWN, circuit.cooldown * 2),
            )
        elif opening:
            circuit.cooldown = settings.AI_CIRCUIT_COOLDOWN
            circuit.opened_at = timezone.now()
        if circuit.state == State.PROBING or opening:
            circuit.state = State.OPEN
            circuit.retry_at = timezone.now() + timedelta(seconds=circuit.cooldown)
        circuit.save()
        if opening:
            transaction.on_commit(lambda: _alert_staff(circuit))


def backoff(attempt: int, retry_after: float | None) -> float:
    """Seconds before the next try: what the provider asked, else exponential."""
    if retry_after is not None:
        return min(retry_after, 60.0)
    return min(settings.OPENAI_RETRY_BACKOFF * 2**attempt, 30.0)


def _alert_staff(circuit: ProviderCircuit) -> None:
    staff = get_user_model().objects.filter(is_staff=True, is_active=True).exclude(email="")
    emails = list(staff.values_list("email", flat=True))
    logger.error(
        "AI circuit %s/%s opened: %s", circuit.provider, circuit.operation, circuit.last_error
    )
    if not emails:
        return
    values = {
        "provider": circuit.provider,
        "operation": circuit.operation,
        "failures": circuit.failures,
        "seconds": int(circuit.cooldown),
        "error": circuit.last_error,
        "url": f"{settings.SITE_URL}/admin/processing/providercircuit/",
    }
    send_mail(
        gettext("[PhotoListing] AI provider down: %(provider)s %(operation)s") % values,
        gettext(
            "%(failures)s server errors or timeouts in a row from %(provider)s on %(operation)s. "
            "AI jobs wait and no call is made for %(seconds)s seconds; then one probe call "
            "tries again.\nLast error: %(error)s\nState: %(url)s"
        )
        % values,
        None,
        emails,
    )

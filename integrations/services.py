"""Outbound webhooks: register endpoints, emit events, deliver them signed, retry, give up.

Every payload is signed like Stripe's: header ``PhotoListing-Signature: t=<unix>,v1=<hex>`` where
``v1 = HMAC-SHA256(secret, f"{t}.{raw_body}")``. Receivers recompute it, compare in constant time
and refuse timestamps older than a few minutes. ``PhotoListing-Event`` names the event and
``PhotoListing-Delivery`` the attempt; the body's ``id`` stays the same across retries and replays.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import secrets
import time
import uuid

from django.conf import settings
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Agency, User
from accounts.permissions import agency_manager_emails, require_agency_manager
from integrations import outbound
from integrations.models import EVENT_TYPES, WebhookDelivery, WebhookEndpoint
from photolisting.errors import ApplicationError
from photolisting.observability import WEBHOOK_DELIVERY_FAILURES

logger = logging.getLogger(__name__)


def _check_url(url: str) -> None:
    """At registration; every delivery checks again, hop by hop (integrations/outbound.py)."""
    outbound.check_url(url)


def endpoint_create(
    *, user: User, url: str, events: list[str], agency: Agency | None = None
) -> WebhookEndpoint:
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise ApplicationError(
            _("Unknown events: %(events)s.") % {"events": ", ".join(unknown)},
            code="invalid_events",
            details={"known": list(EVENT_TYPES)},
        )
    _check_url(url)
    if agency is not None:
        require_agency_manager(
            user, agency, message=_("Only the agency's owners and admins add its webhooks.")
        )
    return WebhookEndpoint.objects.create(
        owner=None if agency else user,
        agency=agency,
        url=url,
        events=events,
        secret=f"plwh_{secrets.token_urlsafe(32)}",
    )


@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """The endpoint and its delivery log."""
    endpoint.delete()


def endpoint_update(*, endpoint: WebhookEndpoint, **fields) -> WebhookEndpoint:
    if fields.get("is_active"):
        fields |= {"consecutive_failures": 0, "disabled_reason": ""}
    for name, value in fields.items():
        setattr(endpoint, name, value)
    endpoint.save()
    return endpoint


def event_emit(*, user_id: int | None, agency_id: int | None, event_type: str, data: dict) -> int:
    """Queues the event to every active endpoint of the owner that wants it, after commit."""
    endpoints = WebhookEndpoint.objects.filter(is_active=True)
    endpoints = (
        endpoints.filter(agency_id=agency_id) if agency_id else endpoints.filter(owner_id=user_id)
    )
    event = {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "created": int(time.time()),
        "data": data,
    }
    deliveries = [
        WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_id=event["id"],
            event_type=event_type,
            payload=json.loads(json.dumps(event, cls=DjangoJSONEncoder)),
        )
        for endpoint in endpoints
        if endpoint.wants(event_type)
    ]
    for delivery in deliveries:
        _enqueue(delivery.id)
    return len(deliveries)


def event_emit_for_project(project, event_type: str, data: dict) -> int:
    return event_emit(
        user_id=project.owner_id, agency_id=project.agency_id, event_type=event_type, data=data
    )


def _enqueue(delivery_id, countdown: float = 0) -> None:
    from integrations.tasks import deliver_webhook

    transaction.on_commit(
        lambda: deliver_webhook.apply_async(args=[str(delivery_id)], countdown=countdown)
    )


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    moment = timestamp or int(time.time())
    digest = hmac.new(secret.encode(), f"{moment}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={moment},v1={digest}"


def delivery_attempt(*, delivery_id: str) -> WebhookDelivery | None:
    """One attempt; on failure the next one is scheduled with exponential backoff."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(id=delivery_id).first()
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return delivery
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.FAILED, last_error="endpoint disabled"
        )
        return delivery
    body = json.dumps(delivery.payload).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "PhotoListing-Webhooks/1",
        "PhotoListing-Event": delivery.event_type,
        "PhotoListing-Delivery": str(delivery.id),
        "PhotoListing-Signature": signature_header(endpoint.secret, body),
    }
    status, text, error = None, "", ""
    try:
        answer = outbound.post(endpoint.url, body, headers, timeout=settings.WEBHOOK_TIMEOUT)
        status, text = answer.status, answer.body
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except outbound.TargetRefused as refused:  # nothing was sent there, nothing is kept
        error = f"{refused.code}: {refused.message}"[:300]
    except (http.client.HTTPException, TimeoutError, OSError) as failure:
        error = str(failure)[:300]
    attempts = delivery.attempts + 1
    if status is not None and 200 <= status < 300:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.SUCCEEDED,
            attempts=attempts,
            response_status=status,
            response_body=text,
            last_error="",
            delivered_at=timezone.now(),
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0)
        return WebhookDelivery.objects.get(pk=delivery.pk)
    final = attempts >= settings.WEBHOOK_MAX_ATTEMPTS
    WEBHOOK_DELIVERY_FAILURES.labels(str(final).lower()).inc()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.FAILED if final else WebhookDelivery.Status.PENDING,
        attempts=attempts,
        response_status=status,
        response_body=text,
        last_error=error,
    )
    if final:
        _count_failure(endpoint)
    else:
        _enqueue(
            delivery.pk,
            countdown=min(3600, settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempts - 1)),
        )
    return WebhookDelivery.objects.get(pk=delivery.pk)


def _count_failure(endpoint: WebhookEndpoint) -> None:
    """Deliveries that failed for good, in a row, switch the endpoint off (and say so)."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    endpoint.refresh_from_db()
    if (
        endpoint.is_active
        and endpoint.consecutive_failures >= settings.WEBHOOK_DISABLE_AFTER_FAILURES
    ):
        # No request here (a worker gives up): the notice goes out in the site's language.
        with translation.override(settings.LANGUAGE_CODE):
            reason = _("%(count)s deliveries in a row failed") % {
                "count": endpoint.consecutive_failures
            }
            subject = _("PhotoListing: a webhook endpoint was switched off")
            body = _(
                "%(url)s was disabled: %(reason)s. Fix it, then re-enable it and replay the "
                "failed deliveries: %(page)s"
            ) % {
                "url": endpoint.url,
                "reason": reason,
                "page": f"{settings.SITE_URL}/integrations/webhooks/",
            }
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            is_active=False, disabled_reason=reason
        )
        recipients = (
            [endpoint.owner.email]
            if endpoint.owner_id
            else agency_manager_emails(endpoint.agency_id)
        )
        send_mail(subject, body, None, recipients)


def delivery_replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Sends the same event (same id) again, as a new logged delivery."""
    replay = WebhookDelivery.objects.create(
        endpoint=delivery.endpoint,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        payload=delivery.payload,
        replay_of=delivery,
    )
    _enqueue(replay.id)
    return replay

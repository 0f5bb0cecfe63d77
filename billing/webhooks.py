"""Stripe webhooks: verified, recorded by event id and processed exactly once. Handlers read the
object's current state from Stripe, so events arriving out of order converge on the truth."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction

from billing.models import Invoice, StripeEvent, Subscription
from billing.subscriptions import (
    as_dict,
    notify,
    retrieve_and_sync,
    subscription_for_subject,
)
from photolisting.errors import ApplicationError

logger = logging.getLogger(__name__)


class WebhookRejected(ApplicationError):
    status = 400
    code = "invalid_signature"


def event_verify(payload: bytes, signature: str) -> stripe.Event:
    """The event, if ``Stripe-Signature`` matches our secret within the tolerance window."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise WebhookRejected("Webhooks are not configured.", code="webhook_not_configured")
    try:
        return stripe.Webhook.construct_event(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET, settings.STRIPE_WEBHOOK_TOLERANCE
        )
    except stripe.SignatureVerificationError as error:
        raise WebhookRejected(f"Signature check failed: {error.user_message or error}") from error
    except ValueError as error:
        raise WebhookRejected(
            "The payload is not a Stripe event.", code="invalid_payload"
        ) from error


def event_process(event: stripe.Event) -> str:
    """Handles an event once: its id is recorded in the same transaction as its effects."""
    handler = HANDLERS.get(event["type"])
    with transaction.atomic():
        try:
            with transaction.atomic():
                StripeEvent.objects.create(
                    id=event["id"],
                    type=event["type"],
                    created=datetime.fromtimestamp(event["created"], tz=UTC),
                )
        except IntegrityError:
            return "duplicate"
        if handler is None:
            return "ignored"
        handler(as_dict(event["data"]["object"]))
    return "processed"


def _subscription_id(obj) -> str | None:
    """An invoice names its subscription under ``parent.subscription_details`` (current API)."""
    parent = obj.get("parent") or {}
    details = parent.get("subscription_details") or {}
    return details.get("subscription") or obj.get("subscription")


def on_checkout_completed(session) -> None:
    if session.get("mode") != "subscription" or not session.get("subscription"):
        return
    subject = session.get("client_reference_id") or (session.get("metadata") or {}).get("subject")
    local = subscription_for_subject(subject, lock=True)
    if local is None:
        logger.warning("checkout %s for unknown subject %r", session["id"], subject)
        return
    Subscription.objects.filter(pk=local.pk).update(stripe_customer_id=session["customer"])
    retrieve_and_sync(session["subscription"])


def on_subscription_changed(subscription) -> None:
    retrieve_and_sync(subscription["id"])


def _record_invoice(invoice) -> Subscription | None:
    subscription_id = _subscription_id(invoice)
    if not subscription_id:
        return None
    local = retrieve_and_sync(subscription_id)
    if local is None:
        return None
    Invoice.objects.update_or_create(
        stripe_id=invoice["id"],
        defaults={
            "subscription": local,
            "number": invoice.get("number") or "",
            "status": invoice.get("status") or "",
            "amount_due": invoice.get("amount_due") or 0,
            "amount_paid": invoice.get("amount_paid") or 0,
            "currency": invoice.get("currency") or "eur",
            "hosted_invoice_url": invoice.get("hosted_invoice_url") or "",
            "invoice_pdf": invoice.get("invoice_pdf") or "",
            "created": datetime.fromtimestamp(invoice.get("created") or 0, tz=UTC),
        },
    )
    return local


def on_invoice_paid(invoice) -> None:
    _record_invoice(invoice)


def on_invoice_payment_failed(invoice) -> None:
    local = _record_invoice(invoice)
    if local is None:
        return
    deadline = local.grace_until.date().isoformat() if local.grace_until else "soon"
    transaction.on_commit(
        lambda: notify(
            local,
            "Payment failed",
            f"We could not collect payment for your {local.plan.name} plan. Your plan stays "
            f"active until {deadline}; please update your card: {settings.SITE_URL}/billing/",
        )
    )


def on_trial_will_end(subscription) -> None:
    local = retrieve_and_sync(subscription["id"])
    if local is not None and local.trial_end:
        transaction.on_commit(
            lambda: notify(
                local,
                "Your trial ends soon",
                f"Your {local.plan.name} trial ends on {local.trial_end.date().isoformat()}. "
                f"Manage your plan: {settings.SITE_URL}/billing/",
            )
        )


HANDLERS: dict[str, Callable] = {
    "checkout.session.completed": on_checkout_completed,
    "customer.subscription.created": on_subscription_changed,
    "customer.subscription.updated": on_subscription_changed,
    "customer.subscription.deleted": on_subscription_changed,
    "invoice.paid": on_invoice_paid,
    "invoice.payment_failed": on_invoice_payment_failed,
    "customer.subscription.trial_will_end": on_trial_will_end,
}

"""Stripe webhooks: verified, recorded by event id and processed exactly once. Handlers read the
object's current state from Stripe, so events arriving out of order converge on the truth."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import formats
from django.utils.translation import gettext

from billing.models import Invoice, StripeEvent, Subscription
from billing.services import plan_name
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
    """The event, if ``Stripe-Signature`` matches our secret within the tolerance window, on
    both sides (the SDK refuses only old timestamps; a future one would outlive the window)."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise WebhookRejected(
            gettext("Webhooks are not configured."), code="webhook_not_configured"
        )
    signed_at = re.search(r"(?:^|,)\s*t=(\d+)", signature)
    if signed_at and int(signed_at.group(1)) > time.time() + settings.STRIPE_WEBHOOK_TOLERANCE:
        raise WebhookRejected(gettext("The signature's timestamp is in the future."))
    try:
        return stripe.Webhook.construct_event(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET, settings.STRIPE_WEBHOOK_TOLERANCE
        )
    except stripe.SignatureVerificationError as error:
        raise WebhookRejected(
            gettext("Signature check failed: %(reason)s") % {"reason": error.user_message or error}
        ) from error
    except ValueError as error:
        raise WebhookRejected(
            gettext("The payload is not a Stripe event."), code="invalid_payload"
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
    values = {"plan": plan_name(local.plan), "url": f"{settings.SITE_URL}/billing/"}
    if local.grace_until:
        body = gettext(
            "We could not collect payment for your %(plan)s plan. Your plan stays active until "
            "%(date)s; please update your card: %(url)s"
        ) % {**values, "date": formats.date_format(local.grace_until.date())}
    else:
        body = (
            gettext(
                "We could not collect payment for your %(plan)s plan. Please update your card: "
                "%(url)s"
            )
            % values
        )
    subject = gettext("Payment failed")
    transaction.on_commit(lambda: notify(local, subject, body))


def on_trial_will_end(subscription) -> None:
    local = retrieve_and_sync(subscription["id"])
    if local is not None and local.trial_end:
        subject = gettext("Your trial ends soon")
        body = gettext("Your %(plan)s trial ends on %(date)s. Manage your plan: %(url)s") % {
            "plan": plan_name(local.plan),
            "date": formats.date_format(local.trial_end.date()),
            "url": f"{settings.SITE_URL}/billing/",
        }
        transaction.on_commit(lambda: notify(local, subject, body))


HANDLERS: dict[str, Callable] = {
    "checkout.session.completed": on_checkout_completed,
    "customer.subscription.created": on_subscription_changed,
    "customer.subscription.updated": on_subscription_changed,
    "customer.subscription.deleted": on_subscription_changed,
    "invoice.paid": on_invoice_paid,
    "invoice.payment_failed": on_invoice_payment_failed,
    "customer.subscription.trial_will_end": on_trial_will_end,
}

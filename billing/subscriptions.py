"""Subscriptions through Stripe: customers made lazily, Checkout to subscribe, the Billing Portal
to manage, plan changes on an existing subscription, seats, and the state Stripe reports."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import stripe
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Agency, Membership, User
from accounts.permissions import manageable_by
from analytics.events import Kind, record
from billing.models import Plan, Subscription
from billing.services import DEFAULT_PLAN, billing_contacts, plan_name, subscription_for
from photolisting.errors import ApplicationError, PermissionDenied

logger = logging.getLogger(__name__)
PAID_STATUSES = {Subscription.Status.ACTIVE, Subscription.Status.TRIALING}
DUNNING_STATUSES = {Subscription.Status.PAST_DUE, Subscription.Status.UNPAID}
ENDED_STATUSES = {"canceled", "incomplete_expired"}


class BillingUnavailable(ApplicationError):
    status = 503
    code = "billing_unavailable"


def stripe_client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise BillingUnavailable(
            gettext("Payments are not set up on this server yet, so plans cannot be changed here.")
        )
    base = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY, base_addresses=base, max_network_retries=2
    )


def _call(function, *args, **kwargs):
    """A Stripe call whose failure is reported to the user as a clear, retryable refusal."""
    try:
        return function(*args, **kwargs)
    except stripe.StripeError as error:
        logger.warning("stripe call failed: %s", error)
        raise BillingUnavailable(
            gettext(
                "The payment provider did not answer as expected; please try again in a moment."
            ),
            details={"stripe": getattr(error, "code", None) or type(error).__name__},
        ) from error


def check_can_manage(*, user: User, subscription: Subscription) -> None:
    allowed = Subscription.objects.filter(manageable_by(user, owner="user"), pk=subscription.pk)
    if not allowed.exists():
        raise PermissionDenied(
            gettext("Only the agency's owners and admins can change its plan."),
            code="not_billing_admin",
        )


def customer_ensure(subscription: Subscription) -> str:
    """The Stripe customer of this subject, created the first time it is needed."""
    if subscription.stripe_customer_id:
        return subscription.stripe_customer_id
    owner = subscription.agency or subscription.user
    contacts = billing_contacts(subscription)
    customer = _call(
        stripe_client().v1.customers.create,
        params={
            "email": contacts[0] if contacts else "",
            "name": str(owner),
            "metadata": {"subject": subscription.subject_key},
        },
        options={"idempotency_key": f"customer-{subscription.subject_key}"},
    )
    Subscription.objects.filter(pk=subscription.pk, stripe_customer_id="").update(
        stripe_customer_id=customer.id
    )
    subscription.refresh_from_db()
    return subscription.stripe_customer_id


def _seats_for(subscription: Subscription, plan: Plan) -> int:
    if plan.per_seat and subscription.agency_id:
        return max(1, Membership.objects.filter(agency_id=subscription.agency_id).count())
    return 1


def _price(plan: Plan, interval: str) -> str:
    price = plan.price_yearly if interval == "year" else plan.price_monthly
    if not price:
        message = (
            gettext("The %(plan)s plan cannot be bought yearly here.")
            if interval == "year"
            else gettext("The %(plan)s plan cannot be bought monthly here.")
        )
        raise ApplicationError(message % {"plan": plan_name(plan)}, code="plan_not_for_sale")
    return price


def plan_change_start(
    *, user: User, subscription: Subscription, plan: Plan, interval: str = "month"
) -> str:
    """Where to send the user to move to ``plan``: Stripe Checkout for a first subscription,
    or the billing page once an existing subscription has been switched (with proration)."""
    check_can_manage(user=user, subscription=subscription)
    if plan.code == DEFAULT_PLAN:
        raise ApplicationError(
            gettext("To go back to Free, cancel your subscription in the billing portal."),
            code="use_portal_to_cancel",
        )
    price = _price(plan, interval)
    billing_page = f"{settings.SITE_URL}/billing/" + (
        f"?agency={subscription.agency_id}" if subscription.agency_id else ""
    )
    if (
        subscription.stripe_subscription_id
        and subscription.status in PAID_STATUSES | DUNNING_STATUSES
    ):
        client = stripe_client()
        current = as_dict(
            _call(client.v1.subscriptions.retrieve, subscription.stripe_subscription_id)
        )
        item = current["items"]["data"][0]
        updated = _call(
            client.v1.subscriptions.update,
            subscription.stripe_subscription_id,
            params={
                "items": [
                    {"id": item["id"], "price": price, "quantity": _seats_for(subscription, plan)}
                ],
                "proration_behavior": "create_prorations",
                "cancel_at_period_end": False,
            },
        )
        subscription_sync(updated)
        return billing_page
    session = _call(
        stripe_client().v1.checkout.sessions.create,
        params={
            "mode": "subscription",
            "customer": customer_ensure(subscription),
            "client_reference_id": subscription.subject_key,
            "line_items": [{"price": price, "quantity": _seats_for(subscription, plan)}],
            "metadata": {"subject": subscription.subject_key, "plan": plan.code},
            "subscription_data": {
                "metadata": {"subject": subscription.subject_key, "plan": plan.code}
            },
            "success_url": billing_page
            + ("&" if "?" in billing_page else "?")
            + "checkout=success",
            "cancel_url": billing_page
            + ("&" if "?" in billing_page else "?")
            + "checkout=cancelled",
        },
    )
    return session.url


def portal_start(*, user: User, subscription: Subscription) -> str:
    """Stripe's Billing Portal: cards, invoices, cancellation."""
    check_can_manage(user=user, subscription=subscription)
    session = _call(
        stripe_client().v1.billing_portal.sessions.create,
        params={
            "customer": customer_ensure(subscription),
            "return_url": f"{settings.SITE_URL}/billing/",
        },
    )
    return session.url


def subscription_cancel(*, user: User, subscription: Subscription) -> Subscription:
    """Cancels at the end of the paid period (photos are never touched by a downgrade)."""
    check_can_manage(user=user, subscription=subscription)
    if not subscription.stripe_subscription_id:
        raise ApplicationError(
            gettext("There is no paid subscription to cancel."), code="no_subscription"
        )
    updated = _call(
        stripe_client().v1.subscriptions.update,
        subscription.stripe_subscription_id,
        params={"cancel_at_period_end": True},
    )
    return subscription_sync(updated)


# --- Mirroring Stripe's state ----------------------------------------------------------------


def _moment(value) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def _local_subscription(stripe_subscription) -> Subscription | None:
    """Ours, by subscription id, then customer, then the subject we put in its metadata."""
    query = Q(stripe_subscription_id=stripe_subscription["id"]) | Q(
        stripe_customer_id=stripe_subscription["customer"]
    )
    found = Subscription.objects.select_for_update().filter(query).order_by("pk").first()
    if found is not None:
        return found
    subject = (stripe_subscription.get("metadata") or {}).get("subject", "")
    return subscription_for_subject(subject, lock=True)


def subscription_for_subject(subject: str, *, lock: bool = False) -> Subscription | None:
    kind, _, pk = (subject or "").partition(":")
    if not pk.isdigit():
        return None
    if kind == "agency" and Agency.objects.filter(pk=pk).exists():
        subscription = subscription_for(agency=Agency.objects.get(pk=pk))
    elif kind == "user" and User.objects.filter(pk=pk).exists():
        subscription = subscription_for(user=User.objects.get(pk=pk))
    else:
        return None
    return (
        Subscription.objects.select_for_update().get(pk=subscription.pk) if lock else subscription
    )


def as_dict(stripe_object) -> dict:
    """SDK objects are not dicts (v12+); handlers read plain data."""
    return stripe_object.to_dict() if hasattr(stripe_object, "to_dict") else stripe_object


@transaction.atomic
def subscription_sync(stripe_subscription) -> Subscription | None:
    """Makes our row match the subscription as Stripe reports it now (not as an event said)."""
    stripe_subscription = as_dict(stripe_subscription)
    local = _local_subscription(stripe_subscription)
    if local is None:
        logger.warning("no local subscription for %s", stripe_subscription["id"])
        return None
    item = stripe_subscription["items"]["data"][0]
    price_id = item["price"]["id"]
    status = stripe_subscription["status"]
    was = (local.plan.code, local.status)
    if status in ENDED_STATUSES:
        if local.stripe_subscription_id not in ("", stripe_subscription["id"]):
            return local  # an old subscription ending does not touch the current one
        local.plan = Plan.objects.get(code=DEFAULT_PLAN)
        local.status = Subscription.Status.CANCELED
        local.stripe_subscription_id = ""
        local.grace_until = None
        local.cancel_at_period_end = False
        local.current_period_start = local.current_period_end = None
    else:
        plan = Plan.objects.filter(Q(price_monthly=price_id) | Q(price_yearly=price_id)).first()
        if plan is None:
            logger.error(
                "subscription %s has unknown price %s", stripe_subscription["id"], price_id
            )
        else:
            local.plan = plan
            local.interval = "year" if plan.price_yearly == price_id else "month"
        local.status = (
            status if status in Subscription.Status.values else Subscription.Status.INCOMPLETE
        )
        local.stripe_subscription_id = stripe_subscription["id"]
        local.stripe_customer_id = stripe_subscription["customer"]
        local.quantity = int(item.get("quantity") or 1)
        local.current_period_start = _moment(
            item.get("current_period_start") or stripe_subscription.get("current_period_start")
        )
        local.current_period_end = _moment(
            item.get("current_period_end") or stripe_subscription.get("current_period_end")
        )
        local.cancel_at_period_end = bool(stripe_subscription.get("cancel_at_period_end"))
        local.trial_end = _moment(stripe_subscription.get("trial_end"))
        if status in DUNNING_STATUSES:
            local.grace_until = local.grace_until or timezone.now() + timedelta(
                days=settings.BILLING_GRACE_DAYS
            )
        else:
            local.grace_until = None
    local.save()
    if (local.plan.code, local.status) != was:
        record(
            Kind.SUBSCRIPTION_CHANGED,
            user_id=local.user_id,
            agency_id=local.agency_id,
            plan=local.plan.code,
            metadata={"from": {"plan": was[0], "status": was[1]}, "status": local.status},
        )
    return local


def retrieve_and_sync(subscription_id: str) -> Subscription | None:
    current = _call(stripe_client().v1.subscriptions.retrieve, subscription_id)
    return subscription_sync(current)


def payment_grace_enforce(now: datetime | None = None) -> int:
    """After the grace period of a failed payment, the subject drops to Free. Their photos,
    projects and versions stay as they are; only new work is limited."""
    expired = Subscription.objects.filter(
        grace_until__lt=now or timezone.now(), status__in=list(DUNNING_STATUSES)
    )
    free = Plan.objects.get(code=DEFAULT_PLAN)
    count = 0
    for subscription in expired.select_related("plan"):
        previous = plan_name(subscription.plan)
        Subscription.objects.filter(pk=subscription.pk).update(
            plan=free, status=Subscription.Status.UNPAID, grace_until=None
        )
        notify(
            subscription,
            gettext("Your plan is now Free"),
            gettext(
                "We could not collect payment for your %(plan)s plan, so it is now Free. "
                "Your photos are all still here. Update your card to return to your plan: "
                "%(url)s"
            )
            % {"plan": previous, "url": f"{settings.SITE_URL}/billing/"},
        )
        count += 1
    return count


def seats_sync(agency: Agency) -> None:
    """Per-seat plans follow the member count in Stripe's subscription quantity."""
    subscription = Subscription.objects.filter(agency=agency).select_related("plan").first()
    if (
        not subscription
        or not subscription.plan.per_seat
        or not subscription.stripe_subscription_id
    ):
        return
    seats = max(1, Membership.objects.filter(agency=agency).count())
    client = stripe_client()
    current = as_dict(_call(client.v1.subscriptions.retrieve, subscription.stripe_subscription_id))
    item = current["items"]["data"][0]
    if int(item.get("quantity") or 1) == seats:
        return
    updated = _call(
        client.v1.subscriptions.update,
        subscription.stripe_subscription_id,
        params={
            "items": [{"id": item["id"], "quantity": seats}],
            "proration_behavior": "create_prorations",
        },
    )
    subscription_sync(updated)


def notify(subscription: Subscription, subject: str, body: str) -> None:
    recipients = billing_contacts(subscription)
    if recipients:
        send_mail(
            gettext("PhotoListing: %(subject)s") % {"subject": subject}, body, None, recipients
        )

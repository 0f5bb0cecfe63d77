"""Plans with Stripe, through the API and the webhook, against a local Stripe-compatible server."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from accounts.models import Membership
from accounts.tests.factories import MembershipFactory, StaffFactory, UserFactory
from billing.models import Invoice, Plan, StripeEvent, Subscription, UsageCounter
from billing.services import quota_release, quota_reserve, quota_subject_of, subscription_for
from billing.subscriptions import payment_grace_enforce
from conftest import jpeg_bytes
from processing.models import Job
from projects.models import Photo

pytestmark = pytest.mark.django_db(transaction=True)


def subscribe(api, stripe, deliver, plan: str = "premium", **body):
    """Checkout as the user would, then Stripe's side and its webhooks."""
    response = api.post("/api/v1/billing/checkout", {"plan": plan, **body}, format="json")
    assert response.status_code == 200, response.content
    url = response.json()["url"]
    assert url.startswith(f"{stripe.base_url}/checkout/cs_test_")
    session, subscription = stripe.complete_checkout(url.rsplit("/", 1)[-1])
    assert deliver(stripe.event("checkout.session.completed", session)).status_code == 200
    assert deliver(stripe.event("customer.subscription.created", subscription)).status_code == 200
    return subscription


def test_full_flow_free_premium_agency_then_cancel(api, user, stripe, deliver, upload):
    photo_id = upload(
        jpeg_bytes(__import__("PIL.Image", fromlist=["Image"]).new("RGB", (64, 48)))
    ).json()["id"]
    overview = api.get("/api/v1/billing/").json()
    assert overview["plan"]["code"] == "free" and overview["status"] == "free"

    subscription = subscribe(api, stripe, deliver, "premium")
    overview = api.get("/api/v1/billing/").json()
    assert overview["plan"]["code"] == "premium" and overview["status"] == "active"
    assert overview["usage"][0]["limit"] == Plan.objects.get(code="premium").monthly_processed_quota
    assert overview["current_period_end"] is not None
    customers = [r for r in stripe.requests if r[1] == "/v1/customers"]
    assert len(customers) == 1 and customers[0][2]["metadata"]["subject"] == f"user:{user.id}"

    changed = api.post(
        "/api/v1/billing/checkout", {"plan": "agency", "interval": "year"}, format="json"
    )
    assert changed.json()["url"].endswith("/billing/")
    assert (
        stripe.subscriptions[subscription["id"]]["items"]["data"][0]["price"]["id"]
        == "price_agency_year"
    )
    deliver(stripe.event("customer.subscription.updated", stripe.subscriptions[subscription["id"]]))
    local = Subscription.objects.get(user=user)
    assert (local.plan.code, local.interval) == ("agency", "year")

    cancelled = api.post("/api/v1/billing/cancel", {}, format="json").json()
    assert cancelled["cancel_at_period_end"] is True and cancelled["plan"]["code"] == "agency"
    ended = stripe.set_status(subscription["id"], "canceled", ended_at=int(time.time()))
    deliver(stripe.event("customer.subscription.deleted", ended))
    overview = api.get("/api/v1/billing/").json()
    assert overview["plan"]["code"] == "free" and overview["status"] == "canceled"
    assert Photo.objects.filter(id=photo_id).exists(), "a downgrade never deletes photos"
    # And they can subscribe again through Checkout.
    assert (
        api.post("/api/v1/billing/checkout", {"plan": "premium"}, format="json")
        .json()["url"]
        .startswith(stripe.base_url)
    )


def test_forged_and_stale_signatures_are_refused(api, stripe, deliver):
    event = stripe.event("invoice.paid", {"id": "in_x", "object": "invoice"})
    forged = deliver(event, secret="whsec_someone_else")
    assert forged.status_code == 400 and forged.json()["error"]["code"] == "invalid_signature"
    stale = deliver(event, timestamp=int(time.time()) - 600)
    assert stale.status_code == 400
    future = deliver(event, timestamp=int(time.time()) + 3600)
    assert future.status_code == 400 and future.json()["error"]["code"] == "invalid_signature"
    from django.test import Client

    unsigned = Client().post("/api/v1/billing/webhook/", b"{}", content_type="application/json")
    assert unsigned.status_code == 400
    assert not StripeEvent.objects.exists()


def test_duplicate_events_are_processed_once(api, user, stripe, deliver):
    subscription = subscribe(api, stripe, deliver)
    event = stripe.event(
        "invoice.paid", stripe.invoice(subscription["id"], paid=True, reason="subscription_create")
    )
    first, again = deliver(event), deliver(event)
    assert first.json()["outcome"] == "processed" and again.json()["outcome"] == "duplicate"
    assert Invoice.objects.count() == 1
    assert StripeEvent.objects.filter(id=event["id"]).count() == 1
    invoices = api.get("/api/v1/billing/").json()["invoices"]
    assert invoices[0]["status"] == "paid" and invoices[0]["url"]


def test_out_of_order_delivery_converges_on_stripes_current_state(api, user, stripe, deliver):
    url = api.post("/api/v1/billing/checkout", {"plan": "premium"}, format="json").json()["url"]
    session, subscription = stripe.complete_checkout(url.rsplit("/", 1)[-1])
    stale_snapshot = dict(subscription)
    # Stripe moved the subscription on (plan change) before any webhook reached us...
    stripe.subscriptions[subscription["id"]]["items"]["data"][0]["price"]["id"] = (
        "price_agency_month"
    )
    # ...then "updated" arrives before "checkout.session.completed", and "created" last of all.
    deliver(stripe.event("customer.subscription.updated", stripe.subscriptions[subscription["id"]]))
    assert Subscription.objects.get(user=user).plan.code == "agency"
    deliver(stripe.event("checkout.session.completed", session))
    deliver(
        stripe.event("customer.subscription.created", stale_snapshot, created=int(time.time()) - 60)
    )
    local = Subscription.objects.get(user=user)
    assert local.plan.code == "agency" and local.stripe_subscription_id == subscription["id"]


def test_payment_failure_grace_then_free_with_nothing_lost(
    api, user, project, stripe, deliver, settings
):
    subscription = subscribe(api, stripe, deliver)
    stripe.set_status(subscription["id"], "past_due")
    mail.outbox.clear()
    deliver(stripe.event("invoice.payment_failed", stripe.invoice(subscription["id"], paid=False)))
    local = Subscription.objects.get(user=user)
    assert local.plan.code == "premium" and local.status == "past_due"
    assert local.grace_until > timezone.now() + timedelta(days=settings.BILLING_GRACE_DAYS - 1)
    assert "Payment failed" in mail.outbox[-1].subject
    assert api.get("/api/v1/billing/").json()["grace_until"] is not None

    assert payment_grace_enforce() == 0  # still inside the grace period
    assert payment_grace_enforce(now=local.grace_until + timedelta(minutes=1)) == 1
    local.refresh_from_db()
    assert local.plan.code == "free" and local.status == "unpaid"
    assert "now Free" in mail.outbox[-1].subject
    assert type(project).objects.filter(pk=project.pk).exists()


def test_usage_resets_when_stripe_renews_the_period(api, user, stripe, deliver):
    subscription = subscribe(api, stripe, deliver)
    local = Subscription.objects.get(user=user)
    quota_reserve(subject=quota_subject_of(local), amounts={"processed": 3})
    assert api.get("/api/v1/billing/").json()["usage"][0]["used"] == 3

    renewed = stripe.renew(subscription["id"])
    deliver(stripe.event("invoice.paid", stripe.invoice(subscription["id"], paid=True)))
    usage = api.get("/api/v1/billing/").json()["usage"][0]
    assert usage["used"] == 0
    assert str(usage["period_start"]) == time.strftime(
        "%Y-%m-%d", time.gmtime(renewed["items"]["data"][0]["current_period_start"])
    )
    assert UsageCounter.objects.filter(subject=f"user:{user.id}", used=3).exists()  # history kept


def test_seats_are_limited_by_the_plan_and_follow_in_stripe(
    api, user, stripe, deliver, settings, celery_worker_process
):
    agency_id = api.post("/api/v1/agencies/", {"name": "Lyon Immo"}, format="json").json()[
        "agency_id"
    ]
    colleague = UserFactory()
    refused = api.post(
        f"/api/v1/agencies/{agency_id}/members/", {"email": colleague.email}, format="json"
    )
    assert refused.status_code == 402
    error = refused.json()["error"]
    assert error["code"] == "seat_limit" and "1 seat" in error["message"]

    subscribe(api, stripe, deliver, "agency", agency=agency_id)
    added = api.post(
        f"/api/v1/agencies/{agency_id}/members/", {"email": colleague.email}, format="json"
    )
    assert added.status_code == 201
    sub_id = Subscription.objects.get(agency_id=agency_id).stripe_subscription_id
    deadline = time.monotonic() + 30
    while stripe.subscriptions[sub_id]["items"]["data"][0]["quantity"] != 2:
        assert time.monotonic() < deadline, "the seat count never reached Stripe"
        time.sleep(0.1)
    stranger = UserFactory()
    member_api = __import__("rest_framework.test", fromlist=["APIClient"]).APIClient()
    member_api.force_login(colleague)
    assert (
        member_api.post(
            f"/api/v1/agencies/{agency_id}/members/", {"email": stranger.email}, format="json"
        ).status_code
        == 403
    )


def test_checkout_for_an_agency_is_for_its_admins(api, user, stripe, client_for):
    membership = MembershipFactory(user=user, role=Membership.Role.MEMBER)
    response = api.post(
        "/api/v1/billing/checkout",
        {"plan": "agency", "agency": membership.agency_id},
        format="json",
    )
    assert response.status_code == 403 and response.json()["error"]["code"] == "not_billing_admin"
    other = MembershipFactory()
    assert api.get(f"/api/v1/billing/?agency={other.agency_id}").status_code == 404


def test_pooled_agency_quota_under_twenty_concurrent_jobs_from_several_members(
    stripe, ready_photos, user, project, client_for
):
    owner_membership = MembershipFactory(user=user, role=Membership.Role.OWNER)
    agency = owner_membership.agency
    project.owner, project.agency = None, agency
    project.save()
    members = [user] + [MembershipFactory(agency=agency).user for _ in range(3)]
    Plan.objects.filter(code="free").update(monthly_processed_quota=7)
    photos = ready_photos(20)  # one new photo per request: each needs a unit of its own
    outcomes: list[int] = []
    barrier = threading.Barrier(20)

    def request(member, photo: str) -> None:
        client = client_for(member)
        barrier.wait()
        try:
            body = {"photos": [photo], "preset": "natural", "lane": "offpeak"}
            outcomes.append(client.post("/api/v1/jobs/", body, format="json").status_code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=request, args=(members[i % 4], photo))
        for i, photo in enumerate(photos)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(202) == 7 and outcomes.count(402) == 13
    assert Job.objects.count() == 7
    assert UsageCounter.objects.get(subject=f"agency:{agency.id}", metric="processed").used == 7


def test_member_caps_inside_the_agency_pool(api, user, project, ready_photos, client_for, stripe):
    owner = MembershipFactory(user=user, role=Membership.Role.OWNER)
    project.owner, project.agency = None, owner.agency
    project.save()
    member = MembershipFactory(agency=owner.agency).user
    capped = api.patch(
        f"/api/v1/agencies/{owner.agency_id}/members/{member.id}/",
        {"monthly_processed_limit": 1},
        format="json",
    )
    assert capped.status_code == 200 and capped.json()["monthly_processed_limit"] == 1
    first, second = ready_photos(2)
    member_api = client_for(member)
    body = {"preset": "natural", "lane": "offpeak"}
    accepted = member_api.post("/api/v1/jobs/", {"photos": [first], **body}, format="json")
    assert accepted.status_code == 202
    refused = member_api.post("/api/v1/jobs/", {"photos": [second], **body}, format="json")
    assert refused.status_code == 402 and refused.json()["error"]["code"] == "member_limit_exceeded"
    again = member_api.post("/api/v1/jobs/", {"photos": [first], **body}, format="json")
    assert again.status_code == 202, "a photo already counted needs no new unit"
    owner_job = api.post("/api/v1/jobs/", {"photos": [second], **body}, format="json")
    assert owner_job.status_code == 202  # the owner has no cap
    pool = UsageCounter.objects.get(subject=f"agency:{owner.agency_id}", metric="processed")
    assert pool.used == 2


def test_usage_warnings_at_80_and_100_percent(client, user, stripe):
    Plan.objects.filter(code="free").update(monthly_processed_quota=5)
    subject = quota_subject_of(subscription_for(user=user))
    mail.outbox.clear()
    quota_reserve(subject=subject, amounts={"processed": 3})
    assert not mail.outbox
    quota_reserve(subject=subject, amounts={"processed": 1})
    assert [m.subject for m in mail.outbox] == ["PhotoListing: 80% of your processed photos used"]
    client.force_login(user)
    assert "80% of processed photos used" in client.get("/").content.decode()
    quota_reserve(subject=subject, amounts={"processed": 1})
    quota_release(subject_key=subject.key, period=subject.period_start, amounts={"processed": 1})
    quota_reserve(subject=subject, amounts={"processed": 1})
    assert [m.subject for m in mail.outbox][1:] == [
        "PhotoListing: 100% of your processed photos used"
    ]


def test_staff_grant_an_audited_one_off_override(client, user, stripe):
    from billing.models import QuotaGrant

    Plan.objects.filter(code="free").update(monthly_processed_quota=1)
    subject = quota_subject_of(subscription_for(user=user))
    quota_reserve(subject=subject, amounts={"processed": 1})
    staff = StaffFactory()
    client.force_login(staff)
    response = client.post(
        "/admin/billing/quotagrant/add/",
        {
            "subject": f"user:{user.id}",
            "metric": "processed",
            "amount": 10,
            "reason": "Launch week goodwill",
        },
    )
    assert response.status_code == 302
    grant = QuotaGrant.objects.get()
    assert grant.granted_by == staff and grant.period_start == subject.period_start
    quota_reserve(subject=subject, amounts={"processed": 10})
    assert (
        client.post(f"/admin/billing/quotagrant/{grant.id}/delete/", {"post": "yes"}).status_code
        == 403
    )
    for model in ("plan", "subscription", "usagecounter", "stripeevent", "invoice"):
        assert client.get(f"/admin/billing/{model}/").status_code == 200


def test_billing_page_shows_plan_usage_and_invoices(client, user, api, stripe, deliver):
    subscription = subscribe(api, stripe, deliver)
    deliver(stripe.event("invoice.paid", stripe.invoice(subscription["id"], paid=True)))
    client.force_login(user)
    page = client.get("/billing/").content.decode()
    assert "Premium" in page and "Choose Agency" in page and "PL-" in page
    assert 'class="bar"' in page
    portal = client.post("/billing/portal", {})
    assert portal.status_code == 302 and portal.url.startswith(f"{stripe.base_url}/portal/")


def test_billing_without_stripe_configured_is_a_clear_refusal(api, settings):
    settings.STRIPE_SECRET_KEY = ""
    Plan.objects.filter(code="premium").update(price_monthly="price_x")
    response = api.post("/api/v1/billing/checkout", {"plan": "premium"}, format="json")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "billing_unavailable"

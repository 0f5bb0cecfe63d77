"""The billing page that sells plans, fair quota (a photo counts once per period, cached AI edits
are free) and the usage page with its server-drawn charts."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Membership
from accounts.tests.factories import MembershipFactory
from billing.charts import BOTTOM, HEIGHT, TOP
from billing.models import Plan, UsageCounter
from conftest import CHROMIUM, log_in
from processing.models import Job
from projects.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db(transaction=True)
PLOT = HEIGHT - TOP - BOTTOM  # the height of the tallest bar


@pytest.fixture(autouse=True)
def _outside_offpeak_window(settings):
    """Economy-lane jobs stay queued: the window is two hours from now."""
    hour = timezone.localtime().hour
    settings.OFFPEAK_WINDOW = ((hour + 2) % 24, (hour + 3) % 24)


def start(client, photos, preset, lane="offpeak"):
    return client.post(
        "/api/v1/jobs/", {"photos": photos, "preset": preset, "lane": lane}, format="json"
    )


def used(subject: str, metric: str) -> int:
    counter = UsageCounter.objects.filter(subject=subject, metric=metric).first()
    return counter.used if counter else 0


def card(page: str, code: str) -> str:
    """The HTML of one plan card, up to the next card (or the end of the plans)."""
    plans = page.split('<h2 id="invoices-title">')[0]
    cards = {chunk.split('"', 1)[0]: chunk for chunk in plans.split('data-plan="')[1:]}
    assert code in cards, f"no card for {code}"
    return cards[code]


def bars(page: str, chart_id: str) -> dict[str, tuple[int, float]]:
    """label → (value, drawn height) of every bar of one chart on the page."""
    figure = re.search(rf'<figure class="chart" id="{chart_id}">(.*?)</figure>', page, re.S)
    assert figure, f"no chart {chart_id}"
    return {
        label: (int(value), float(height))
        for height, label, value in re.findall(
            r'height="([\d.]+)" data-label="([^"]*)" data-value="(\d+)"', figure.group(1)
        )
    }


def subscribe(api, stripe, deliver, plan: str = "premium"):
    url = api.post("/api/v1/billing/checkout", {"plan": plan}, format="json").json()["url"]
    session, subscription = stripe.complete_checkout(url.rsplit("/", 1)[-1])
    assert deliver(stripe.event("checkout.session.completed", session)).status_code == 200
    assert deliver(stripe.event("customer.subscription.created", subscription)).status_code == 200
    return subscription


# --- The billing page -----------------------------------------------------------------------


def test_free_user_sees_plan_cards_and_upgrades_through_checkout(client, user, stripe):
    client.force_login(user)
    page = client.get("/billing/").content.decode()
    assert "Free (Free)" not in page and "Your plan: Free" in page
    free, premium, agency = card(page, "free"), card(page, "premium"), card(page, "agency")
    assert "Current" in free and "<form" not in free
    assert "30 photos processed per period" in free and "3 AI edits per period" in free
    assert "Upgrade" in premium and "Choose Premium" in premium and "€29 / month" in premium
    assert "1,000 photos processed per period" in premium and "Portal exports" in premium
    assert 'name="interval"' in premium and 'value="year"' in premium
    assert "Up to 10 members, billed per member" in agency and "Agency branding" in agency
    assert "Manage payment and invoices" not in page, "no customer yet: nothing to manage"

    response = client.post("/billing/checkout", {"plan": "premium", "interval": "year"})
    assert response.status_code == 302
    assert response.url.startswith(f"{stripe.base_url}/checkout/cs_test_")
    session = stripe.sessions[response.url.rsplit("/", 1)[-1]]
    assert session["line_items"][0]["price"] == "price_premium_year"


def test_paying_user_manages_payment_downgrades_and_sees_invoices(
    client, user, api, stripe, deliver
):
    subscription = subscribe(api, stripe, deliver, "agency")
    deliver(stripe.event("invoice.paid", stripe.invoice(subscription["id"], paid=True)))
    client.force_login(user)
    page = client.get("/billing/").content.decode()
    assert "Your plan: Agency" in page and "(Active, billed monthly)" in page
    premium, free = card(page, "premium"), card(page, "free")
    assert "Downgrade" in premium and "Choose Premium" in premium
    assert "Downgrade" in free and 'action="/billing/portal"' in free
    assert "Current" in card(page, "agency")
    assert "Manage payment and invoices" in page
    assert re.search(r"<td>PL-[^<]+</td>", page), "the paid invoice is listed"

    portal = client.post("/billing/portal", {})
    assert portal.status_code == 302 and portal.url.startswith(f"{stripe.base_url}/portal/")
    changed = client.post("/billing/checkout", {"plan": "premium", "interval": "month"})
    assert changed.status_code == 302 and changed.url.endswith("/billing/")
    item = stripe.subscriptions[subscription["id"]]["items"]["data"][0]
    assert item["price"]["id"] == "price_premium_month"


def test_without_payments_configured_an_honest_notice_and_no_buttons(
    client, user, stripe, settings
):
    settings.STRIPE_SECRET_KEY = ""
    client.force_login(user)
    page = client.get("/billing/").content.decode()
    assert 'id="payments-off"' in page and "Payments are not set up on this server" in page
    assert 'action="/billing/checkout"' not in page and 'action="/billing/portal"' not in page
    assert "1,000 photos processed per period" in card(page, "premium"), "plans are still shown"


def test_agency_plan_selector_members_and_malformed_ids(client, user, stripe):
    membership = MembershipFactory(user=user, role=Membership.Role.MEMBER)
    client.force_login(user)
    personal = client.get("/billing/").content.decode()
    assert (
        f'href="?agency={membership.agency_id}"' in personal and membership.agency.name in personal
    )
    page = client.get(f"/billing/?agency={membership.agency_id}").content.decode()
    assert "Only the agency's owners and admins can change its plan" in page
    assert 'action="/billing/checkout"' not in page
    assert client.get("/billing/?agency=abc").status_code == 404
    assert client.get(f"/billing/?agency={MembershipFactory().agency_id}").status_code == 404
    assert client.get("/usage/?agency=1e9").status_code == 404

    Membership.objects.filter(pk=membership.pk).update(role=Membership.Role.ADMIN)
    page = client.get(f"/billing/?agency={membership.agency_id}").content.decode()
    assert "Choose Agency" in card(page, "agency")


def test_billing_and_usage_pages_in_french(client, user, stripe):
    client.force_login(user)
    page = client.get("/billing/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Votre forfait : Gratuit" in page and "Forfait actuel" in card(page, "free")
    assert "Choisir Premium" in card(page, "premium") and "Forfait supérieur" in card(
        page, "premium"
    )
    assert "30 photos traitées par période" in card(page, "free")
    assert "29 € / mois" in card(page, "premium")
    assert ">Utilisation</a>" in page, "the nav link"
    usage = client.get("/usage/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Photos traitées par jour" in usage and "Quota de la période" in usage
    # SVG coordinates are numbers, not French decimals ("12,5" would put every label at 0).
    assert not re.search(r' (x|y|width|height)="-?\d+,\d', usage)


# --- Fair quota -----------------------------------------------------------------------------


def test_a_photo_counts_once_whichever_local_presets_run_on_it(api, user, ready_photos):
    photos = ready_photos(4)
    assert start(api, photos[:3], "natural").status_code == 202
    assert start(api, photos[:3], "bright-airy").status_code == 202
    assert used(f"user:{user.id}", "processed") == 3
    assert start(api, photos[3:], "bright-airy").status_code == 202
    assert used(f"user:{user.id}", "processed") == 4

    project = Job.objects.first().project_id
    summary = api.get(f"/api/v1/usage/?project={project}").json()
    assert summary["processing"] == {"jobs": 7, "counted_photos": 4, "free_jobs": 3}
    assert summary["usage"][0]["used"] == 4
    assert sum(day["processed"] for day in summary["days"]) == 4


def test_quota_refusal_speaks_french_and_keeps_its_code(api, ready_photos):
    Plan.objects.filter(code="free").update(monthly_processed_quota=1)
    photos = ready_photos(2)
    response = api.post(
        "/api/v1/jobs/",
        {"photos": photos, "preset": "natural"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 402
    error = response.json()["error"]
    assert error["code"] == "quota_exceeded" and error["details"]["limit"] == 1
    assert error["message"].startswith("Votre forfait Gratuit comprend 1 photos traitées")


def test_cancelling_the_job_that_counted_a_photo_keeps_it_counted_once(api, user, ready_photos):
    (photo,) = ready_photos(1)
    first = start(api, [photo], "natural").json()["jobs"][0]["id"]
    second = start(api, [photo], "bright-airy").json()["jobs"][0]["id"]
    assert api.post(f"/api/v1/jobs/{first}/cancel").status_code == 200
    assert used(f"user:{user.id}", "processed") == 1, "the other preset still runs on it"
    assert Job.objects.get(id=second).reserved_processed == 1
    assert api.post(f"/api/v1/jobs/{second}/cancel").status_code == 200
    assert used(f"user:{user.id}", "processed") == 0


def test_concurrent_jobs_on_other_presets_never_exceed_the_quota(ready_photos, user, client_for):
    Plan.objects.filter(code="free").update(monthly_processed_quota=3)
    photos = ready_photos(4)
    presets = ["natural", "bright-airy", "privacy-safe-exterior"]
    requests = [(photo, preset) for photo in photos for preset in presets]
    outcomes: list[tuple[str, int]] = []
    barrier = threading.Barrier(len(requests))

    def request(photo: str, preset: str) -> None:
        client = client_for(user)
        barrier.wait()
        try:
            outcomes.append((photo, start(client, [photo], preset).status_code))
        finally:
            connection.close()

    threads = [threading.Thread(target=request, args=pair) for pair in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    accepted = {photo for photo, status in outcomes if status == 202}
    assert len(accepted) == 3, "three photos fit the quota"
    assert sorted(status for _, status in outcomes) == [202] * 9 + [402] * 3
    assert used(f"user:{user.id}", "processed") == 3
    assert sum(Job.objects.values_list("reserved_processed", flat=True)) == 3


def test_an_ai_edit_served_from_the_cache_uses_no_ai_quota(
    api, user, ready_photos, wait_for_job, openai
):
    (photo,) = ready_photos(1)
    first = start(api, [photo], "virtual-staging-living-room", lane="standard")
    assert wait_for_job(first.json()["jobs"][0]["id"]).status == "succeeded"
    assert openai.successes == 1 and used(f"user:{user.id}", "ai") == 1
    again = start(api, [photo], "virtual-staging-living-room", lane="standard")
    job = wait_for_job(again.json()["jobs"][0]["id"])
    assert job.status == "succeeded" and job.provider_usage["cache_hits"] == 1
    assert openai.successes == 1, "the provider was not paid again"
    assert used(f"user:{user.id}", "ai") == 1, "the cache hit is free"
    summary = api.get(f"/api/v1/usage/?project={job.project_id}").json()
    assert {"metric": "ai", "used": 1}.items() <= summary["usage"][1].items()
    assert sum(day["ai"] for day in summary["days"]) == 1


# --- The usage page -------------------------------------------------------------------------


def test_usage_page_bars_follow_the_data_per_day_and_per_project(
    client, user, api, project, ready_photos, time_machine
):
    today = timezone.localdate()
    if today.day < 3:
        pytest.skip("needs two earlier days in this calendar month")
    noon = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    photos = ready_photos(4)
    other = ProjectFactory(owner=user, name="Villa Les Pins")
    (elsewhere,) = ready_photos(1, project_id=other.id)
    time_machine.move_to(noon - timedelta(days=2), tick=True)
    assert start(api, photos[:3], "natural").status_code == 202
    assert start(api, photos[:3], "bright-airy").status_code == 202  # free: same photos
    time_machine.move_to(noon, tick=True)
    assert start(api, photos[3:], "natural").status_code == 202
    assert start(api, [elsewhere], "natural").status_code == 202

    client.force_login(user)
    page = client.get("/usage/").content.decode()
    per_day = bars(page, "chart-processed")
    assert len(per_day) == today.day, "one bar per day of the period so far"
    two_days_ago = [v for label, v in per_day.items() if v[0] == 3]
    assert two_days_ago == [(3, PLOT)], "the tallest day fills the chart"
    today_bar = [v for v in per_day.values() if v[0] == 2]
    assert today_bar == [(2, round(2 * PLOT / 3, 2))]
    assert sum(value for value, _ in per_day.values()) == 5
    assert all(height == 0 for value, height in per_day.values() if value == 0)
    assert 'data-jobs="8" data-counted="5"' in page
    assert 'data-metric="processed" data-used="5" data-limit="30"' in page

    per_project = bars(page, "chart-projects")
    assert per_project == {project.name: (4, PLOT), "Villa Les Pins": (1, round(PLOT / 4, 2))}
    assert "<title" in page and "<desc" in page and "<table" in page
    assert "chart-members" not in page, "a personal plan has no members"


def test_usage_page_per_member_for_an_agency(client, user, project, ready_photos, client_for):
    owner = MembershipFactory(user=user, role=Membership.Role.OWNER)
    project.owner, project.agency = None, owner.agency
    project.save()
    colleague = MembershipFactory(agency=owner.agency).user
    photos = ready_photos(3)
    assert start(client_for(user), photos[:2], "natural").status_code == 202
    assert start(client_for(colleague), photos[2:], "natural").status_code == 202
    assert start(client_for(colleague), photos[:2], "bright-airy").status_code == 202  # free

    client.force_login(colleague)
    page = client.get(f"/usage/?agency={owner.agency_id}").content.decode()
    assert bars(page, "chart-members") == {
        user.email: (2, PLOT),
        colleague.email: (1, round(PLOT / 2, 2)),
    }
    assert bars(page, "chart-projects") == {project.name: (3, PLOT)}
    members = re.search(r'<table class="usage-table" id="members".*?</table>', page, re.S).group(0)
    assert f"<td>{colleague.email}</td><td>1</td><td>3</td>" in members  # 1 counted, 3 jobs
    assert client.get("/usage/").status_code == 200
    assert "chart-members" not in client.get("/usage/").content.decode()


# --- In a real browser ----------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")
def test_billing_and_usage_pages_fit_a_phone_and_work_from_the_keyboard(
    live_server, page, stripe, ready_photos, api, user, celery_worker_process
):
    membership = MembershipFactory(user=user, role=Membership.Role.OWNER)
    membership.agency.name = "Agence Immobilière du Vieux-Lyon et des Pentes"
    membership.agency.save()
    photos = ready_photos(2)
    assert start(api, photos, "natural").status_code == 202
    page.set_viewport_size({"width": 360, "height": 780})
    log_in(page, live_server.url, user)
    for path in ("/billing/", "/usage/", f"/usage/?agency={membership.agency_id}"):
        page.goto(f"{live_server.url}{path}")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 360px"

    page.goto(f"{live_server.url}/usage/")
    chart = page.get_by_role("img", name="Processed photos per day")
    assert chart.count() == 1
    assert page.locator("#chart-processed rect[data-value='2']").count() == 1
    page.locator("#chart-processed summary").focus()
    page.keyboard.press("Enter")
    assert page.locator("#chart-processed table").is_visible()

    page.goto(f"{live_server.url}/billing/")
    page.get_by_label("Billing", exact=True).first.focus()
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Choose Premium"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused button shows where focus is"
    page.keyboard.press("Enter")
    page.wait_for_url(f"{stripe.base_url}/checkout/**")


def test_large_numbers_are_grouped_the_french_way(client, user):
    client.force_login(user)
    french = client.get("/billing/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert re.search("10[\u202f\u00a0]000 photos traitées par période", french)
    english = client.get("/billing/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "10,000 photos processed per period" in english

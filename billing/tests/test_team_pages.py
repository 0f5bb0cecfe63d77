"""The team pages (/team/, /team/<agency>/): agencies, members, roles, caps, invitations and the
plan's seats, through the Django test client; one run in real Chromium; and the demo team."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command

from accounts.models import Agency, Invitation, Membership, User
from accounts.services import agency_create
from accounts.tests.factories import MembershipFactory, UserFactory
from billing.models import Subscription
from conftest import CHROMIUM, log_in
from projects.models import Project

pytestmark = pytest.mark.django_db(transaction=True)


def on_agency_plan(agency: Agency, owner: User, stripe, deliver, client_for) -> None:
    """The owner buys the Agency plan (10 seats) as on the billing page; Stripe confirms."""
    response = client_for(owner).post(
        "/api/v1/billing/checkout", {"plan": "agency", "agency": agency.id}, format="json"
    )
    assert response.status_code == 200, response.content
    session, subscription = stripe.complete_checkout(response.json()["url"].rsplit("/", 1)[-1])
    assert deliver(stripe.event("checkout.session.completed", session)).status_code == 200
    assert deliver(stripe.event("customer.subscription.created", subscription)).status_code == 200
    assert Subscription.objects.get(agency=agency).plan.code == "agency"


def page_for(user: User):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def text_of(response) -> str:
    """The page's text with tags dropped and whitespace collapsed."""
    html = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.replace("&#x27;", "'").replace("&#39;", "'"))


def team_of(role: str = Membership.Role.MEMBER):
    """An agency with an owner and one more person in ``role``."""
    owner = MembershipFactory(role=Membership.Role.OWNER)
    other = MembershipFactory(agency=owner.agency, role=role)
    return owner.agency, owner, other


# --- /team/ -----------------------------------------------------------------------------------


def test_team_page_lists_my_agencies_and_creates_one():
    me = UserFactory()
    mine = MembershipFactory(user=me, role=Membership.Role.ADMIN)
    elsewhere = MembershipFactory()
    client = page_for(me)

    page = text_of(client.get("/team/"))
    assert mine.agency.name in page and "Your role: Admin" in page
    assert elsewhere.agency.name not in page

    created = client.post("/team/", {"name": "Lyon Immo"}, follow=True)
    agency = Agency.objects.get(name="Lyon Immo")
    assert created.redirect_chain[-1][0] == f"/team/{agency.id}/"
    assert Membership.objects.get(agency=agency, user=me).role == "owner"
    assert "Lyon Immo is created." in text_of(created)

    refused = client.post("/team/", {"name": "  "}, follow=True)
    assert refused.status_code == 200
    assert "Agency name: This field is required." in text_of(refused)
    assert Agency.objects.filter(memberships__user=me).count() == 2


def test_the_team_link_is_in_the_top_navigation():
    page = page_for(UserFactory()).get("/").content.decode()
    assert '<a href="/team/">Team</a>' in page


# --- Seats, invitations -----------------------------------------------------------------------


def test_free_plan_is_full_then_the_agency_plan_lets_the_owner_invite(stripe, deliver, client_for):
    owner = UserFactory()
    agency = agency_create(user=owner, name="Lyon Immo")
    colleague = UserFactory()
    client = page_for(owner)

    page = text_of(client.get(f"/team/{agency.id}/"))
    assert "1 of 1 seat used on the Free plan." in page and "0 seats available." in page
    assert "All seats are taken." in page
    assert f'href="/billing/?agency={agency.id}"' in client.get(f"/team/{agency.id}/").text
    refused = client.post(f"/team/{agency.id}/invite", {"email": colleague.email}, follow=True)
    assert "Every seat of the Free plan is taken (1 included)." in text_of(refused)
    assert not Membership.objects.filter(user=colleague).exists()

    on_agency_plan(agency, owner, stripe, deliver, client_for)
    page = text_of(client.get(f"/team/{agency.id}/"))
    assert "1 of 10 seats used on the Agency plan." in page and "9 seats available." in page
    assert "All seats are taken." not in page

    added = client.post(
        f"/team/{agency.id}/invite",
        {"email": colleague.email.upper(), "role": "admin"},
        follow=True,
    )
    assert f"{colleague.email} joined Lyon Immo as Admin." in text_of(added)
    assert Membership.objects.get(agency=agency, user=colleague).role == "admin"

    again = client.post(f"/team/{agency.id}/invite", {"email": colleague.email}, follow=True)
    assert f"{colleague.email} is already a member of Lyon Immo." in text_of(again)

    invited = client.post(
        f"/team/{agency.id}/invite",
        {"email": "new.agent@example.com", "role": "member"},
        follow=True,
    )
    invitation = Invitation.objects.get(agency=agency, email="new.agent@example.com")
    page = text_of(invited)
    assert "An invitation was e-mailed to new.agent@example.com." in page
    assert "3 of 10 seats used" in page
    assert "new.agent@example.com Role: Member Expires on" in page
    assert [m.to for m in mail.outbox if "Lyon Immo" in m.subject] == [["new.agent@example.com"]]
    assert invitation.token in mail.outbox[-1].body

    twice = client.post(
        f"/team/{agency.id}/invite", {"email": "New.Agent@example.com"}, follow=True
    )
    assert "new.agent@example.com has already been invited." in text_of(twice)

    bad = client.post(f"/team/{agency.id}/invite", {"email": "not-an-address"}, follow=True)
    assert "E-mail address: Enter a valid email address." in text_of(bad)
    owner_role = client.post(
        f"/team/{agency.id}/invite", {"email": "x@example.com", "role": "owner"}, follow=True
    )
    assert "Role: Select a valid choice." in text_of(owner_role)
    assert Invitation.objects.filter(agency=agency).count() == 1

    cancelled = client.post(f"/team/{agency.id}/invitations/{invitation.id}/cancel", follow=True)
    assert "The invitation to new.agent@example.com is cancelled" in text_of(cancelled)
    assert "No open invitations." in text_of(cancelled)
    assert "2 of 10 seats used" in text_of(cancelled)
    assert not Invitation.objects.filter(pk=invitation.pk).exists()
    gone = client.post(f"/team/{agency.id}/invitations/{invitation.id}/cancel", follow=True)
    assert "No such invitation" in text_of(gone)


def test_a_member_cannot_invite_or_cancel_invitations(stripe, deliver, client_for):
    agency, owner, member = team_of(Membership.Role.MEMBER)
    on_agency_plan(agency, owner.user, stripe, deliver, client_for)
    page_for(owner.user).post(f"/team/{agency.id}/invite", {"email": "later@example.com"})
    invitation = Invitation.objects.get(agency=agency)
    client = page_for(member.user)

    page = client.get(f"/team/{agency.id}/").content.decode()
    assert 'id="invite"' not in page and "Cancel the invitation" not in page
    assert "later@example.com" in page  # members see who is coming
    refused = client.post(f"/team/{agency.id}/invite", {"email": "x@example.com"}, follow=True)
    assert "Only the agency's owners and admins manage its team." in text_of(refused)
    client.post(f"/team/{agency.id}/invitations/{invitation.id}/cancel")
    assert Invitation.objects.filter(pk=invitation.pk).exists()
    assert not Invitation.objects.filter(email="x@example.com").exists()


# --- Roles, caps, removal -----------------------------------------------------------------------


def test_an_admin_sets_roles_and_caps_but_not_the_owners():
    agency, owner, admin = team_of(Membership.Role.ADMIN)
    member = MembershipFactory(agency=agency)
    client = page_for(admin.user)

    page = client.get(f"/team/{agency.id}/").content.decode()
    assert f'action="/team/{agency.id}/members/{member.id}/"' in page
    assert f'action="/team/{agency.id}/members/{owner.id}/"' not in page
    assert f'for="processed-{member.id}"' in page and f'id="processed-{member.id}"' in page

    saved = client.post(
        f"/team/{agency.id}/members/{member.id}/",
        {"role": "admin", "monthly_processed_limit": "40", "monthly_ai_limit": ""},
        follow=True,
    )
    assert f"The role and monthly caps of {member.user.email} are saved." in text_of(saved)
    member.refresh_from_db()
    assert (member.role, member.monthly_processed_limit, member.monthly_ai_limit) == (
        "admin",
        40,
        None,
    )

    refused = client.post(
        f"/team/{agency.id}/members/{owner.id}/",
        {"role": "member", "monthly_processed_limit": "1"},
        follow=True,
    )
    assert "Only the owner changes the owner's role and monthly caps." in text_of(refused)
    owner.refresh_from_db()
    assert (owner.role, owner.monthly_processed_limit) == ("owner", None)

    negative = client.post(
        f"/team/{agency.id}/members/{member.id}/", {"monthly_ai_limit": "-3"}, follow=True
    )
    assert "AI edits per month: Ensure this value is greater than or equal to 0." in text_of(
        negative
    )
    member.refresh_from_db()
    assert member.monthly_ai_limit is None

    malformed = client.post(f"/team/{agency.id}/members/abc/", {"role": "member"}, follow=True)
    assert malformed.status_code == 200 and "No such member" in text_of(malformed)


def test_the_owner_caps_themself_and_their_role_stays_owner():
    agency, owner, _ = team_of()
    client = page_for(owner.user)
    page = client.get(f"/team/{agency.id}/").content.decode()
    assert f'id="role-{owner.id}"' not in page  # no role picker on the owner's own row
    client.post(
        f"/team/{agency.id}/members/{owner.id}/",
        {"monthly_processed_limit": "500", "monthly_ai_limit": "20"},
    )
    owner.refresh_from_db()
    assert (owner.role, owner.monthly_processed_limit, owner.monthly_ai_limit) == (
        "owner",
        500,
        20,
    )
    refused = client.post(f"/team/{agency.id}/members/{owner.id}/", {"role": "admin"}, follow=True)
    assert "The owner's role cannot be changed." in text_of(refused)
    owner.refresh_from_db()
    assert owner.role == "owner"


def test_a_member_sees_the_team_but_changes_nothing():
    agency, owner, member = team_of()
    client = page_for(member.user)
    page = client.get(f"/team/{agency.id}/")
    assert owner.user.email in text_of(page)
    # Only their own "leave" form; caps are read, not edited.
    actions = re.findall(r'action="(/team/[^"]*)"', page.content.decode())
    assert actions == [f"/team/{agency.id}/members/{member.id}/remove"]
    assert "Processed photos per month: no cap" in text_of(page)
    refused = client.post(
        f"/team/{agency.id}/members/{owner.id}/", {"monthly_processed_limit": "1"}, follow=True
    )
    assert "Only the agency's owners and admins manage its team." in text_of(refused)
    client.post(f"/team/{agency.id}/members/{member.id}/", {"role": "admin"})
    client.post(f"/team/{agency.id}/members/{owner.id}/remove")
    member.refresh_from_db()
    owner.refresh_from_db()
    assert member.role == "member" and owner.monthly_processed_limit is None


def test_members_leave_admins_remove_and_the_owner_stays():
    agency, owner, admin = team_of(Membership.Role.ADMIN)
    member = MembershipFactory(agency=agency)
    leaver = MembershipFactory(agency=agency)

    removed = page_for(admin.user).post(
        f"/team/{agency.id}/members/{member.id}/remove", follow=True
    )
    assert f"{member.user.email} was removed from {agency.name}." in text_of(removed)
    assert not Membership.objects.filter(pk=member.pk).exists()

    kept = page_for(admin.user).post(f"/team/{agency.id}/members/{owner.id}/remove", follow=True)
    assert "The agency's owner cannot be removed or leave it." in text_of(kept)
    owner_page = page_for(owner.user)
    assert 'id="leave"' not in owner_page.get(f"/team/{agency.id}/").content.decode()
    stays = owner_page.post(f"/team/{agency.id}/members/{owner.id}/remove", follow=True)
    assert "The agency's owner cannot be removed or leave it." in text_of(stays)
    assert Membership.objects.filter(pk=owner.pk).exists()

    leaving = page_for(leaver.user)
    assert 'id="leave"' in leaving.get(f"/team/{agency.id}/").content.decode()
    left = leaving.post(f"/team/{agency.id}/members/{leaver.id}/remove", follow=True)
    assert left.redirect_chain[-1][0] == "/team/"
    assert f"You left {agency.name}." in text_of(left)
    assert not Membership.objects.filter(pk=leaver.pk).exists()
    assert leaving.get(f"/team/{agency.id}/").status_code == 404


def test_other_agencies_and_malformed_ids_are_not_found():
    agency, owner, _ = team_of()
    stranger = page_for(UserFactory())
    assert stranger.get(f"/team/{agency.id}/").status_code == 404
    assert stranger.get("/team/abc/").status_code == 404
    assert stranger.get("/team/99999999999999999999999/").status_code == 404
    assert stranger.post(f"/team/{agency.id}/invite", {"email": "x@example.com"}).status_code == 404
    assert stranger.post(f"/team/{agency.id}/members/{owner.id}/remove").status_code == 404
    assert Membership.objects.filter(pk=owner.pk).exists()
    client = page_for(owner.user)
    other = MembershipFactory()  # a membership of another agency
    response = client.post(f"/team/{agency.id}/members/{other.id}/remove", follow=True)
    assert "No such member" in text_of(response)
    assert Membership.objects.filter(pk=other.pk).exists()
    bad_uuid = client.post(f"/team/{agency.id}/invitations/not-a-uuid/cancel", follow=True)
    assert bad_uuid.status_code == 200 and "No such invitation" in text_of(bad_uuid)
    assert client.get(f"/team/{agency.id}/invite").status_code == 405
    assert page_for(owner.user).get("/team/").status_code == 200
    from django.test import Client

    assert Client().get("/team/").status_code == 302  # to the login page


# --- French -------------------------------------------------------------------------------------


def test_the_team_pages_speak_french():
    agency, owner, member = team_of()
    client = page_for(owner.user)
    french = {"headers": {"accept-language": "fr"}}

    page = text_of(client.get(f"/team/{agency.id}/", **french))
    for words in (
        "Équipe",
        "Places",
        "Places utilisées : 2 sur 1 (offre Gratuit).",
        "Toutes les places sont prises.",
        "Propriétaire",
        "Photos traitées par mois",
        "Inviter un collègue",
        "Aucune invitation en attente.",
    ):
        assert words in page, words
    assert "Seats" not in page and "Invite a colleague" not in page

    refused = client.post(
        f"/team/{agency.id}/invite", {"email": "x@example.com"}, follow=True, **french
    )
    assert "Toutes les places de l’offre Gratuit sont prises (1 incluses)." in text_of(refused)
    kept = page_for(member.user).post(
        f"/team/{agency.id}/members/{owner.id}/remove", follow=True, **french
    )
    assert "Seuls les propriétaires et administrateurs de l’agence gèrent son équipe." in text_of(
        kept
    )
    listing = text_of(client.get("/team/", **french))
    assert "Vos agences" in listing and "Votre rôle : Propriétaire" in listing


# --- The demo team ----------------------------------------------------------------------------


def test_seed_demo_adds_a_demo_agency_with_a_colleague_and_is_repeatable(tmp_path, capsys):
    call_command("seed_demo", data_dir=str(tmp_path))
    call_command("seed_demo", data_dir=str(tmp_path))
    assert (
        "Demo team: Agence des Lilas, with colleague@photolisting.local" in capsys.readouterr().out
    )
    demo = User.objects.get(email="demo@photolisting.local")
    agency = Agency.objects.get(memberships__user=demo)
    roles = dict(agency.memberships.values_list("user__email", "role"))
    assert roles == {"demo@photolisting.local": "owner", "colleague@photolisting.local": "member"}
    assert Agency.objects.count() == 1
    from django.test import Client

    colleague = Client()
    assert colleague.login(email="colleague@photolisting.local", password="listing-demo-2026")
    assert agency.name in text_of(colleague.get("/team/"))
    # The personal demo project stays the demo user's own.
    assert list(Project.objects.filter(owner=demo).values_list("agency", flat=True)) == [None]


# --- In a real browser --------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")
def test_owner_invites_a_colleague_who_then_sees_the_agency_project(
    live_server, page, stripe, deliver, client_for, celery_worker_process, tmp_path
):
    from projects.services import project_create

    owner, colleague = UserFactory(), UserFactory()
    agency = agency_create(user=owner, name="Agence Presqu'île")
    on_agency_plan(agency, owner, stripe, deliver, client_for)
    project_create(user=owner, agency=agency, name="Appartement Ainay")
    screenshot = Path(os.environ.get("SCREENSHOT_DIR", tmp_path)) / "team.png"
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        log_in(page, live_server.url, owner)
        page.click("header >> text=Team")
        page.wait_for_url(f"{live_server.url}/team/")
        page.click("text=Agence Presqu'île")
        page.wait_for_url(f"**/team/{agency.id}/")
        page.get_by_label("E-mail address").fill(colleague.email)
        page.get_by_label("Role", exact=True).last.select_option("admin")
        page.get_by_role("button", name="Invite", exact=True).click()
        page.wait_for_selector(f'#members li[data-email="{colleague.email}"]')
        assert f"{colleague.email} joined Agence Presqu'île as Admin." in page.inner_text(
            ".messages"
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.get_by_label("Processed photos per month", exact=True).last.focus()
        page.keyboard.type("25")
        page.keyboard.press("Enter")
        page.wait_for_selector("text=are saved")
        assert Membership.objects.get(user=colleague).monthly_processed_limit == 25
        page.screenshot(path=str(screenshot), full_page=True)

        page.context.clear_cookies()
        log_in(page, live_server.url, colleague)
        assert "Appartement Ainay" in page.inner_text("main")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    except Exception:
        page.screenshot(path=str(screenshot.with_name("team-failure.png")), full_page=True)
        raise

"""Team refusals and the invitation e-mail in French when the person acting reads French, with
unchanged codes; accepting an invitation welcomes in French."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from accounts.models import Invitation, Membership
from accounts.services import agency_create
from accounts.tests.factories import MembershipFactory, UserFactory
from billing.tests.test_team_pages import on_agency_plan

pytestmark = pytest.mark.django_db(transaction=True)

FR = {"HTTP_ACCEPT_LANGUAGE": "fr"}


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


def test_already_member_and_missing_member_in_french(client_for):
    owner = MembershipFactory(role=Membership.Role.OWNER, agency__name="Lyon Immo")
    colleague = MembershipFactory(agency=owner.agency)
    api = client_for(owner.user)
    members = f"/api/v1/agencies/{owner.agency_id}/members/"

    french = error_of(api.post(members, {"email": colleague.user.email}, format="json", **FR), 409)
    assert french["code"] == "already_member"
    assert french["message"] == f"{colleague.user.email} fait déjà partie de Lyon Immo."
    english = error_of(api.post(members, {"email": colleague.user.email}, format="json"), 409)
    assert english["message"] == f"{colleague.user.email} is already in Lyon Immo."

    missing = error_of(api.patch(f"{members}999999/", {"role": "admin"}, format="json", **FR), 404)
    assert missing["code"] == "member_not_found"
    assert missing["message"] == "Ce membre n’existe pas."

    owner_gone = error_of(api.delete(f"{members}{owner.user_id}/", **FR), 400)
    assert owner_gone["code"] == "owner_role"
    assert owner_gone["message"] == "Le propriétaire de l’agence ne peut pas être retiré."


def test_invitation_email_follows_the_inviters_language(stripe, deliver, client_for):
    owner = UserFactory()
    agency = agency_create(user=owner, name="Lyon Immo")
    on_agency_plan(agency, owner, stripe, deliver, client_for)
    api = client_for(owner)
    members = f"/api/v1/agencies/{agency.id}/members/"
    mail.outbox.clear()

    invited = api.post(members, {"email": "nouvelle@example.com"}, format="json", **FR)
    assert invited.status_code == 202, invited.content
    invitation = Invitation.objects.get(email="nouvelle@example.com")
    (french,) = [m for m in mail.outbox if m.to == ["nouvelle@example.com"]]
    assert french.subject == f"{owner} vous invite à rejoindre Lyon Immo"
    assert french.body.startswith("Rejoignez Lyon Immo sur PhotoListing : créez un compte")
    assert f"/invitations/{invitation.token}/" in french.body

    english_invite = api.post(members, {"email": "new@example.com"}, format="json")
    assert english_invite.status_code == 202, english_invite.content
    (english,) = [m for m in mail.outbox if m.to == ["new@example.com"]]
    assert english.subject == f"{owner} invites you to Lyon Immo"
    assert english.body.startswith("Join Lyon Immo on PhotoListing: sign up")

    again = error_of(api.post(members, {"email": "nouvelle@example.com"}, format="json", **FR), 409)
    assert again["code"] == "already_invited"
    assert again["message"] == "nouvelle@example.com a déjà été invité."

    newcomer = UserFactory(email="nouvelle@example.com")
    browser = Client()
    browser.force_login(newcomer)
    welcomed = browser.get(f"/invitations/{invitation.token}/", follow=True, **FR)
    assert "Bienvenue dans Lyon Immo." in welcomed.content.decode()
    assert Membership.objects.filter(agency=agency, user=newcomer).exists()
    used = browser.get(f"/invitations/{invitation.token}/", follow=True, **FR)
    assert "Cette invitation a déjà été utilisée." in used.content.decode()

"""The admin's pages and actions staff use every day."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import Invitation
from accounts.tests.factories import PASSWORD, MembershipFactory, StaffFactory, UserFactory
from analytics.models import Anomaly, AuditEntry
from billing.models import UsageCounter

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = StaffFactory()
    client.force_login(user)
    return user


def test_a_users_page_shows_agencies_plan_usage_and_anomalies(client, staff):
    membership = MembershipFactory(agency__name="Maison Dupont", role="admin")
    customer = membership.user
    UsageCounter.objects.create(
        subject=f"user:{customer.pk}",
        period_start=timezone.localdate().replace(day=1),
        metric="processed",
        used=17,
    )
    Anomaly.objects.create(
        key="x",
        kind="usage_spike",
        severity="warning",
        day=timezone.localdate(),
        subject_type="agency",
        subject_key=str(membership.agency_id),
        summary="agency uploads 450, usually 100",
    )
    html = client.get(f"/admin/accounts/user/{customer.pk}/change/").content.decode()
    assert "Maison Dupont" in html and "processed: 17" in html
    assert "agency uploads 450, usually 100" in html and "free" in html


def test_disabling_a_user_ends_their_sessions(client, staff):
    customer = UserFactory()
    their_browser = Client()
    their_browser.post("/accounts/login/", {"login": customer.email, "password": PASSWORD})
    assert their_browser.get("/").wsgi_request.user.is_authenticated
    sessions_before = Session.objects.count()

    response = client.post(
        "/admin/accounts/user/",
        {"action": "disable_users", "_selected_action": [customer.pk, staff.pk]},
        follow=True,
    )

    assert "1 user disabled, 1 session(s) ended." in response.content.decode()
    customer.refresh_from_db()
    staff.refresh_from_db()
    assert not customer.is_active and staff.is_active  # never yourself
    assert Session.objects.count() == sessions_before - 1
    assert not their_browser.get("/").wsgi_request.user.is_authenticated


def test_resending_an_invitation_extends_it_and_mails_it_again(
    client, staff, django_capture_on_commit_callbacks
):
    membership = MembershipFactory(role="owner")
    invitation = Invitation.objects.create(
        agency=membership.agency,
        email="new@example.com",
        token="t" * 40,
        invited_by=membership.user,
        expires_at=timezone.now(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/accounts/invitation/",
            {"action": "resend", "_selected_action": [invitation.pk]},
        )
    invitation.refresh_from_db()
    assert invitation.expires_at > timezone.now() + timezone.timedelta(days=13)
    assert mail.outbox[-1].to == ["new@example.com"]
    assert AuditEntry.objects.get().action == "action:resend"


def test_computed_photo_fields_are_read_only(client, staff, project):
    from projects.models import Photo

    photo = Photo.objects.create(
        project=project,
        storage_key="k/original.jpg",
        bytes=10,
        sha256="a" * 64,
        format="JPEG",
        width=4032,
        height=3024,
        status="ready",
    )
    form = client.get(f"/admin/projects/photo/{photo.pk}/change/").context["adminform"].form
    for field in ("width", "height", "status", "sha256", "format", "bytes", "phash"):
        assert field not in form.fields
    assert "room_label" in form.fields

"""Every change made through the admin writes exactly one audit row with the values before and
after; the audit trail itself cannot be changed or deleted through the admin."""

from __future__ import annotations

import pytest

from accounts.models import Agency, User
from accounts.tests.factories import AgencyFactory, StaffFactory, UserFactory
from analytics.models import AuditEntry
from billing.models import Plan, QuotaGrant

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = StaffFactory(email="admin@photolisting.test")
    client.force_login(user)
    return user


def change_form(client, url: str) -> dict:
    """The change form's current values, as the browser would post them back."""
    response = client.get(url)
    assert response.status_code == 200
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        data[name] = value
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management[name].value()
        for inline_form in formset.formset.forms:
            for name in inline_form.fields:
                value = inline_form[name].value()
                if value is not None:
                    data[inline_form.add_prefix(name)] = value
    return data


def test_a_change_writes_one_row_with_before_and_after(client, staff):
    agency = AgencyFactory(name="Maison Dupont", slug="maison-dupont")
    url = f"/admin/accounts/agency/{agency.pk}/change/"
    data = change_form(client, url) | {"name": "Maison Dupont & Fils"}

    response = client.post(url, data, REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 302, response.context and response.context["errors"]
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.actor_email, entry.action) == (staff, staff.email, "change")
    assert (entry.target_type, entry.target_id) == ("accounts.Agency", str(agency.pk))
    assert entry.before == {"name": "Maison Dupont"}
    assert entry.after == {"name": "Maison Dupont & Fils"}
    assert entry.ip == "203.0.113.9" and entry.at is not None


def test_additions_deletions_and_plan_edits_each_write_one_row(client, staff):
    client.post(
        "/admin/accounts/agency/add/",
        {
            "name": "Nouvelle",
            "slug": "nouvelle",
            "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0,
        },
    )
    added = AuditEntry.objects.get()
    assert added.action == "add" and added.after["name"] == "Nouvelle" and added.before == {}

    plan = Plan.objects.get(code="premium")
    url = f"/admin/billing/plan/{plan.pk}/change/"
    client.post(url, change_form(client, url) | {"monthly_ai_quota": 250})
    edit = AuditEntry.objects.latest("id")
    assert (edit.action, edit.target_repr) == ("change", "Premium")
    assert edit.before == {"monthly_ai_quota": 100} and edit.after == {"monthly_ai_quota": 250}

    agency = Agency.objects.get(slug="nouvelle")
    client.post(f"/admin/accounts/agency/{agency.pk}/delete/", {"post": "yes"})
    deleted = AuditEntry.objects.latest("id")
    assert deleted.action == "delete" and deleted.before["slug"] == "nouvelle"
    assert AuditEntry.objects.count() == 3


def test_a_quota_grant_records_its_reason(client, staff):
    customer = UserFactory()
    client.post(
        "/admin/billing/quotagrant/add/",
        {
            "subject": f"user:{customer.pk}",
            "metric": "processed",
            "amount": 50,
            "reason": "Photographer's launch week",
        },
    )
    grant = QuotaGrant.objects.get()
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.target_id) == ("add", str(grant.pk))
    assert entry.after["reason"] == "Photographer's launch week" and entry.after["amount"] == 50


def test_passwords_are_never_stored_only_that_they_changed(client, staff):
    customer = UserFactory()
    client.post(
        f"/admin/accounts/user/{customer.pk}/password/",
        {
            "password1": "An0ther-long-pass",
            "password2": "An0ther-long-pass",
            "usable_password": "true",
        },
    )
    entry = AuditEntry.objects.get()
    assert entry.action == "change" and set(entry.after) == {"password"}
    assert entry.after["password"].startswith("hidden:")
    assert entry.before["password"] != entry.after["password"]
    assert "An0ther" not in str(entry.after)


def test_bulk_actions_write_one_row_naming_what_they_changed(client, staff):
    customers = UserFactory.create_batch(2)
    client.post(
        "/admin/accounts/user/",
        {"action": "disable_users", "_selected_action": [u.pk for u in customers]},
    )
    entry = AuditEntry.objects.get()
    assert entry.action == "action:disable_users" and entry.target_type == "accounts.User"
    assert sorted(entry.before["selected"]) == sorted(str(u.pk) for u in customers)
    assert entry.after["changed"] == {str(u.pk): {"is_active": False} for u in customers}
    assert not User.objects.filter(pk__in=[u.pk for u in customers], is_active=True).exists()


def test_audit_rows_cannot_be_changed_or_deleted_through_the_admin(client, staff):
    entry = AuditEntry.objects.create(actor=staff, actor_email=staff.email, action="change")
    model_admin = __import__("django.contrib.admin", fromlist=["site"]).site._registry[AuditEntry]
    request = client.get("/admin/").wsgi_request
    assert model_admin.has_view_permission(request, entry)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)

    assert client.get("/admin/analytics/auditentry/").status_code == 200
    page = client.get(f"/admin/analytics/auditentry/{entry.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    posted = client.post(f"/admin/analytics/auditentry/{entry.pk}/change/", {"action": "edited"})
    assert posted.status_code == 403
    assert client.get(f"/admin/analytics/auditentry/{entry.pk}/delete/").status_code == 403
    assert (
        client.post(f"/admin/analytics/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert client.get("/admin/analytics/auditentry/add/").status_code == 403
    bulk = client.post(
        "/admin/analytics/auditentry/",
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    entry.refresh_from_db()
    assert entry.action == "change" and AuditEntry.objects.count() == 1

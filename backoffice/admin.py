"""The user page staff open most: the account with its agencies, plan, usage this period,
recent jobs and anomalies, read from the apps that own them (so it lives up here)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.admin import UserAdmin
from accounts.models import User
from analytics.models import Anomaly
from billing.models import Subscription, UsageCounter
from billing.services import DEFAULT_PLAN, period_start_of
from processing.models import Job

RECENT = 10
ACTIVITY = ("agency_list", "plan_summary", "usage_summary", "job_list", "anomaly_list")

admin.site.unregister(User)


@admin.register(User)
class CustomerAdmin(UserAdmin):
    readonly_fields = [*UserAdmin.readonly_fields, *ACTIVITY]
    fieldsets = (
        *UserAdmin.fieldsets,
        (_("Activity"), {"fields": ACTIVITY}),
    )

    @admin.display(description=_("agencies"))
    def agency_list(self, user: User) -> str:
        rows = user.memberships.select_related("agency").order_by("agency__name")
        return (
            format_html_join(
                ", ",
                '<a href="{}">{}</a> ({})',
                (
                    (
                        reverse("admin:accounts_agency_change", args=[m.agency_id]),
                        m.agency.name,
                        m.get_role_display(),
                    )
                    for m in rows
                ),
            )
            or "—"
        )

    def _subscription(self, user: User) -> Subscription | None:
        return Subscription.objects.filter(user=user).select_related("plan").first()

    @admin.display(description=_("plan"))
    def plan_summary(self, user: User) -> str:
        subscription = self._subscription(user)
        if subscription is None:
            return DEFAULT_PLAN
        return f"{subscription.plan.name} ({subscription.get_status_display()})"

    @admin.display(description=_("usage this period"))
    def usage_summary(self, user: User) -> str:
        subscription = self._subscription(user)
        counters = UsageCounter.objects.filter(subject=f"user:{user.pk}")
        if subscription is not None:
            counters = counters.filter(period_start=period_start_of(subscription))
        else:
            latest = counters.order_by("-period_start").values_list("period_start", flat=True)
            counters = counters.filter(period_start=latest.first())
        return ", ".join(f"{c.metric}: {c.used}" for c in counters.order_by("metric")) or "—"

    @admin.display(description=_("recent jobs"))
    def job_list(self, user: User) -> str:
        jobs = Job.objects.filter(created_by=user).order_by("-created_at")[:RECENT]
        return (
            format_html_join(
                "\n",
                '<div><a href="{}">{}</a> {} — {}</div>',
                (
                    (
                        reverse("admin:processing_job_change", args=[job.pk]),
                        job.created_at.strftime("%Y-%m-%d %H:%M"),
                        job.preset_name,
                        job.get_status_display(),
                    )
                    for job in jobs
                ),
            )
            or "—"
        )

    @admin.display(description=_("anomalies"))
    def anomaly_list(self, user: User) -> str:
        agencies = [str(pk) for pk in user.memberships.values_list("agency_id", flat=True)]
        rows = (
            Anomaly.objects.filter(subject_type="user", subject_key=str(user.pk))
            | Anomaly.objects.filter(subject_type="agency", subject_key__in=agencies)
        ).order_by("-detected_at")[:RECENT]
        return format_html_join(
            "\n",
            '<div><a href="{}">{}</a> [{}] {}</div>',
            (
                (
                    reverse("admin:analytics_anomaly_change", args=[a.pk]),
                    a.day,
                    a.get_state_display(),
                    a.summary,
                )
                for a in rows
            ),
        ) or gettext("none")

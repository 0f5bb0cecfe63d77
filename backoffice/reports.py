"""The daily report e-mailed to staff: yesterday in figures, from the aggregates."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from analytics.anomalies import staff_emails
from analytics.models import Anomaly
from backoffice.dashboard import SERIES, Filters, daily_series, failure_rates
from billing.selectors import monthly_recurring_revenue


def daily_report(day: date) -> dict:
    filters = Filters(start=day, end=day)
    series = daily_series(filters)
    return {
        "day": day,
        "figures": [(title, series.get(metric, {}).get(day, 0)) for metric, title in SERIES],
        "failures": failure_rates(filters),
        "mrr": sorted(monthly_recurring_revenue().items()),
        "anomalies": list(
            Anomaly.objects.filter(state=Anomaly.State.OPEN).order_by("-detected_at")[:20]
        ),
        "open_anomalies": Anomaly.objects.filter(state=Anomaly.State.OPEN).count(),
        "link": settings.SITE_URL + reverse("admin:dashboard"),
    }


def daily_report_send(*, day: date | None = None) -> int:
    """Sends yesterday's report (or ``day``'s) to every active staff member, in
    ``STAFF_LANGUAGE``; returns how many addresses it went to."""
    day = day or timezone.localdate() - timedelta(days=1)
    emails = staff_emails()
    if not emails:
        return 0
    with translation.override(settings.STAFF_LANGUAGE):
        context = daily_report(day)
        subject = gettext("[PhotoListing] Daily report for %(day)s") % {"day": day.isoformat()}
        body = render_to_string("backoffice/daily_report.txt", context)
    send_mail(subject, body, None, emails)
    return len(emails)

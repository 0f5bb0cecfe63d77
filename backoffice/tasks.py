"""Celery beat chores of the back office: thin, each calls one function."""

from __future__ import annotations

from celery import shared_task

from backoffice.monitors import anomalies_detect
from backoffice.reports import daily_report_send


@shared_task
def detect_anomalies() -> int:
    return len(anomalies_detect().new)


@shared_task
def send_daily_report() -> int:
    return daily_report_send()

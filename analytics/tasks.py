"""Celery beat chores of analytics: thin, each calls one function."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from analytics.aggregates import events_prune, usage_aggregate


@shared_task
def aggregate_recent_usage() -> int:
    """Yesterday (events that arrived late) and today so far."""
    return usage_aggregate(since=timezone.localdate() - timedelta(days=1)).rows


@shared_task
def prune_usage_events() -> int:
    return events_prune()

"""Beat's daily and hourly chores; each is also a ``manage.py`` command with ``--dry-run``."""

from __future__ import annotations

from celery import shared_task

from housekeeping import lifecycle


@shared_task
def purge_temp_files() -> int:
    return lifecycle.purge_temp_files().count


@shared_task
def archive_unused_photos() -> int:
    return lifecycle.archive_unused_photos().count


@shared_task
def notify_inactive_accounts() -> int:
    return lifecycle.notify_inactive_accounts().count


@shared_task
def purge_inactive_accounts() -> int:
    return lifecycle.purge_inactive_accounts().count

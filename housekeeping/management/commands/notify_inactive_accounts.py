"""Lifecycle command (housekeeping.lifecycle), run by Celery beat; --dry-run changes nothing."""

from housekeeping import lifecycle
from housekeeping.management.lifecycle_command import LifecycleCommand


class Command(LifecycleCommand):
    help = lifecycle.notify_inactive_accounts.__doc__ or "notify_inactive_accounts"
    action = staticmethod(lifecycle.notify_inactive_accounts)
    noun = "notify_inactive_accounts"

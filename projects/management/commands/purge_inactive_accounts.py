"""Lifecycle command (projects.lifecycle), run daily by Celery beat; --dry-run changes nothing."""

from projects import lifecycle
from projects.management.lifecycle_command import LifecycleCommand


class Command(LifecycleCommand):
    help = lifecycle.purge_inactive_accounts.__doc__ or "purge_inactive_accounts"
    action = staticmethod(lifecycle.purge_inactive_accounts)
    noun = "purge_inactive_accounts"

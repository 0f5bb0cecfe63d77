"""Lifecycle command (housekeeping.lifecycle), run by Celery beat; --dry-run changes nothing."""

from housekeeping import lifecycle
from housekeeping.management.lifecycle_command import LifecycleCommand


class Command(LifecycleCommand):
    help = lifecycle.purge_temp_files.__doc__ or "purge_temp_files"
    action = staticmethod(lifecycle.purge_temp_files)
    noun = "purge_temp_files"

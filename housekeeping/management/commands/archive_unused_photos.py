"""Lifecycle command (housekeeping.lifecycle), run by Celery beat; --dry-run changes nothing."""

from housekeeping import lifecycle
from housekeeping.management.lifecycle_command import LifecycleCommand


class Command(LifecycleCommand):
    help = lifecycle.archive_unused_photos.__doc__ or "archive_unused_photos"
    action = staticmethod(lifecycle.archive_unused_photos)
    noun = "archive_unused_photos"

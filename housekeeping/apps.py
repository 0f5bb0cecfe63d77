from django.apps import AppConfig


class HousekeepingConfig(AppConfig):
    """Account-wide chores on top of every other app, which none of them imports: temporary
    files, the cold tier, inactive accounts, account data exports, storage checks, the demo."""

    name = "housekeeping"

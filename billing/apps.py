from django.apps import AppConfig
from django.db.models.signals import post_migrate


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        post_migrate.connect(_sync_plans, sender=self)


def _sync_plans(**kwargs) -> None:
    """Shipped plans exist after every migrate (and after test flushes, which re-emit it)."""
    from billing.services import plans_sync

    plans_sync()

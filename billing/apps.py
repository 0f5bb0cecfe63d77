from django.apps import AppConfig
from django.db.models.signals import post_migrate


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        from accounts.signals import seat_requested, seats_changed
        from analytics.events import plan_resolver_set
        from billing import receivers
        from billing.selectors import plan_code_of
        from projects.signals import project_requested

        post_migrate.connect(_sync_plans, sender=self)
        plan_resolver_set(plan_code_of)
        seat_requested.connect(receivers.refuse_seat_over_plan)
        seats_changed.connect(receivers.sync_seats_after_commit)
        project_requested.connect(receivers.refuse_project_over_plan)


def _sync_plans(**kwargs) -> None:
    """Shipped plans exist after every migrate (and after test flushes, which re-emit it)."""
    from billing.services import plans_sync

    plans_sync()

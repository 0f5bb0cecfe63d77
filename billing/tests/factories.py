from __future__ import annotations

import factory

from billing.models import Plan, Subscription


class SubscriptionFactory(factory.django.DjangoModelFactory):
    """A paid plan without going through Stripe: for tests of what a plan includes (the
    Stripe flows have their own tests). Pass ``user=`` or ``agency=``."""

    class Meta:
        model = Subscription

    user = None
    agency = None
    plan = factory.LazyAttribute(lambda o: Plan.objects.get(code=o.plan_code))
    status = Subscription.Status.ACTIVE

    class Params:
        plan_code = "premium"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """Moves an existing (Free) subscription to the plan rather than adding a second one."""
        owner = {"user": kwargs.pop("user"), "agency": kwargs.pop("agency")}
        subscription, _ = model_class.objects.update_or_create(**owner, defaults=kwargs)
        return subscription

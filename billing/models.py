"""Plans and usage: what a user or an agency may process each month, and what they have used."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.models import owned_by_user_xor_agency


class Plan(models.Model):
    """A plan as data (see ``billing/plans.json``), editable in the admin."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    monthly_processed_quota = models.PositiveIntegerField(help_text="Photos processed per month.")
    monthly_ai_quota = models.PositiveIntegerField(help_text="Generative AI edits per month.")
    projects_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: no limit."
    )
    seats = models.PositiveIntegerField(default=1)
    api_rate = models.CharField(max_length=20, default="60/min")
    features = models.JSONField(default=dict, blank=True)
    price_monthly = models.CharField(max_length=100, blank=True, help_text="Stripe price id.")
    price_yearly = models.CharField(max_length=100, blank=True, help_text="Stripe price id.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.name


class Subscription(models.Model):
    """Which plan a user or an agency is on; without one, the free plan applies."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="subscription",
    )
    agency = models.OneToOneField(
        "accounts.Agency",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="subscription",
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            owned_by_user_xor_agency("user", "subscription_for_user_xor_agency"),
        ]

    def __str__(self) -> str:
        return f"{self.user or self.agency} on {self.plan}"


class UsageCounter(models.Model):
    """Units used by one subject ("user:12", "agency:3") in one monthly period, per metric.

    Reservations are a single conditional UPDATE, so concurrent requests can never push
    ``used`` past the plan's quota, on SQLite as on PostgreSQL.
    """

    class Metric(models.TextChoices):
        PROCESSED = "processed", "Processed photos"
        AI = "ai", "AI edits"

    subject = models.CharField(max_length=40)
    period_start = models.DateField()
    metric = models.CharField(max_length=10, choices=Metric.choices)
    used = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "period_start", "metric"], name="usage_counter_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.metric} {self.period_start}: {self.used}"

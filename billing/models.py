"""Plans and usage: what a user or an agency may process each month, and what they have used."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

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
    per_seat = models.BooleanField(
        default=False, help_text="Billed per agency member (Stripe quantity = members)."
    )
    price_label = models.CharField(max_length=60, blank=True, help_text="e.g. €29 / month")
    price_monthly = models.CharField(max_length=100, blank=True, help_text="Stripe price id.")
    price_yearly = models.CharField(max_length=100, blank=True, help_text="Stripe price id.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.name


class Subscription(models.Model):
    """Which plan a user or an agency is on, mirrored from Stripe; without one, Free applies."""

    class Status(models.TextChoices):
        FREE = "free", "Free"
        INCOMPLETE = "incomplete", "Incomplete"
        TRIALING = "trialing", "Trialing"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        UNPAID = "unpaid", "Unpaid"
        CANCELED = "canceled", "Canceled"

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
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.FREE)
    stripe_customer_id = models.CharField(max_length=64, blank=True, db_index=True)
    stripe_subscription_id = models.CharField(max_length=64, blank=True, db_index=True)
    interval = models.CharField(max_length=10, blank=True)
    quantity = models.PositiveIntegerField(default=1)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    trial_end = models.DateTimeField(null=True, blank=True)
    grace_until = models.DateTimeField(
        null=True, blank=True, help_text="After a failed payment: the plan holds until then."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            owned_by_user_xor_agency("user", "subscription_for_user_xor_agency"),
        ]

    def __str__(self) -> str:
        return f"{self.user or self.agency} on {self.plan}"

    @property
    def subject_key(self) -> str:
        return f"agency:{self.agency_id}" if self.agency_id else f"user:{self.user_id}"


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
    warned_percent = models.PositiveSmallIntegerField(
        default=0, help_text="Highest usage warning sent this period (80 or 100)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "period_start", "metric"], name="usage_counter_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.metric} {self.period_start}: {self.used}"


class QuotaGrant(models.Model):
    """A one-off extra allowance granted by staff for one period; the row is the audit record."""

    subject = models.CharField(max_length=40, help_text='"user:12" or "agency:3"')
    period_start = models.DateField()
    metric = models.CharField(max_length=10, choices=UsageCounter.Metric.choices)
    amount = models.PositiveIntegerField()
    reason = models.CharField(max_length=300)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["subject", "period_start", "metric"])]

    def __str__(self) -> str:
        return f"+{self.amount} {self.metric} for {self.subject} ({self.period_start})"


class StripeEvent(models.Model):
    """A webhook event already processed: replays and duplicates are no-ops."""

    id = models.CharField(max_length=80, primary_key=True)
    type = models.CharField(max_length=80)
    created = models.DateTimeField(help_text="When Stripe created the event.")
    processed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class Invoice(models.Model):
    """An invoice as Stripe last reported it, so the billing page needs no Stripe call."""

    stripe_id = models.CharField(max_length=80, unique=True)
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="invoices"
    )
    number = models.CharField(max_length=60, blank=True)
    status = models.CharField(max_length=20)
    amount_due = models.PositiveIntegerField(default=0)
    amount_paid = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3, default="eur")
    hosted_invoice_url = models.URLField(max_length=500, blank=True)
    invoice_pdf = models.URLField(max_length=500, blank=True)
    created = models.DateTimeField()

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return self.number or self.stripe_id


class UsageRecord(models.Model):
    """One job's charge, kept to count a photo once per period and to chart usage by day, member
    and project. A processed record of ``amount`` 0 is a photo already counted this period that
    another preset was tried on."""

    subject = models.CharField(max_length=40)
    period_start = models.DateField()
    metric = models.CharField(max_length=10, choices=UsageCounter.Metric.choices)
    amount = models.PositiveSmallIntegerField()
    reference = models.CharField(max_length=64, help_text="The job charged.")
    preset = models.CharField(max_length=120, blank=True)
    photo = models.ForeignKey(
        "projects.Photo", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    project = models.ForeignKey(
        "projects.Project", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["subject", "period_start", "metric", "photo"]),
            models.Index(fields=["reference"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["reference", "metric"], name="usage_record_per_job")
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.metric} {self.amount} ({self.reference})"

"""Usage events (raw, pruned after a retention period), daily aggregates (kept), anomalies and
the audit trail of administrative actions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class UsageEvent(models.Model):
    """Something a user or the system did, recorded by the service that did it.

    Users, agencies and projects are plain ids, not foreign keys: events outlive what they
    describe (a deleted account's history still counts) and inserting one never locks a row."""

    class Kind(models.TextChoices):
        SIGNUP = "signup", _("Sign-up")
        LOGIN = "login", _("Log-in")
        UPLOAD = "upload", _("Upload")
        INGEST_REJECTED = "ingest_rejected", _("Upload rejected")
        JOB_SUCCEEDED = "job_succeeded", _("Job succeeded")
        JOB_FAILED = "job_failed", _("Job failed")
        EXPORT = "export", _("Export")
        SHARE_VIEW = "share_view", _("Share-link view")
        QUOTA_REFUSED = "quota_refused", _("Quota refusal")
        SUBSCRIPTION_CHANGED = "subscription_changed", _("Subscription change")

    kind = models.CharField(max_length=32, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    user_id = models.BigIntegerField(null=True, blank=True)
    agency_id = models.BigIntegerField(null=True, blank=True)
    plan = models.CharField(max_length=40, blank=True)
    operation = models.CharField(max_length=60, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    provider_cost = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    ai_edits = models.PositiveIntegerField(default=0, help_text=_("Paid provider calls."))
    project_id = models.UUIDField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["occurred_at", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.occurred_at:%Y-%m-%d %H:%M}"


class DailyAggregate(models.Model):
    """One metric of one subject on one day, rebuilt from the events by ``aggregate_usage``."""

    class SubjectType(models.TextChoices):
        ALL = "all", _("Everyone")
        PLAN = "plan", _("Plan")
        AGENCY = "agency", _("Agency")
        USER = "user", _("User")
        OPERATION = "operation", _("Operation")

    day = models.DateField()
    subject_type = models.CharField(max_length=12, choices=SubjectType.choices)
    subject_key = models.CharField(max_length=60, blank=True)
    metric = models.CharField(max_length=32)
    value = models.DecimalField(max_digits=18, decimal_places=6)

    class Meta:
        constraints = [
            # Subject key first: a subject's series is found by it, and a metric across
            # subjects is left to the index below (SQLite would otherwise scan this one).
            models.UniqueConstraint(
                fields=["subject_key", "subject_type", "metric", "day"],
                name="one_aggregate_per_day_subject_metric",
            )
        ]
        # The unique index serves one subject's series; the first of these a metric across
        # subjects (top agencies, failure rate by operation), read from the index alone as it
        # holds every column read; the second the rebuild of one day.
        indexes = [
            models.Index(
                fields=["subject_type", "metric", "day", "subject_key", "value"],
                name="aggregate_metric_across",
            ),
            models.Index(fields=["day"], name="aggregate_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.subject_type}:{self.subject_key} {self.metric}={self.value}"


class Anomaly(models.Model):
    """Something an operator should look at, found by ``detect_anomalies``; ``key`` makes a
    re-run update the same row instead of adding (and notifying) another."""

    class Kind(models.TextChoices):
        USAGE_SPIKE = "usage_spike", _("Usage spike")
        FAILURE_RATE = "failure_rate", _("Failure-rate spike")
        PROVIDER_BUDGET = "provider_budget", _("Provider cost over budget")
        QUEUE_BACKLOG = "queue_backlog", _("Queue backlog")
        SIGNUP_BURST = "signup_burst", _("Sign-up burst")

    class Severity(models.TextChoices):
        WARNING = "warning", _("Warning")
        CRITICAL = "critical", _("Critical")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    state = models.CharField(max_length=14, choices=State.choices, default=State.OPEN)
    subject_type = models.CharField(max_length=12, blank=True)
    subject_key = models.CharField(max_length=60, blank=True)
    metric = models.CharField(max_length=32, blank=True)
    day = models.DateField()
    summary = models.CharField(max_length=300)
    evidence = models.JSONField(default=dict)
    detected_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-detected_at"]
        verbose_name_plural = "anomalies"
        indexes = [models.Index(fields=["state", "-detected_at"])]

    def __str__(self) -> str:
        return self.summary


class AuditEntry(models.Model):
    """One administrative action: who, what, on which object, the values before and after,
    from where and when. Written by the admin's audit hook, never changed afterwards."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=80)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True, help_text=_("What the admin said was changed."))
    reason = models.CharField(max_length=300, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.actor_email} {self.action} {self.target_repr}"

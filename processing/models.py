"""Presets (what to do to a photo), jobs and batches (doing it), and the AI result cache."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from photolisting.stamps import StampedQuerySet
from processing import stamps


class Preset(models.Model):
    """An ordered list of validated operations: shipped, a user's, or an agency's."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=80)
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=300, blank=True)
    is_system = models.BooleanField(default=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="presets",
    )
    agency = models.ForeignKey(
        "accounts.Agency", null=True, blank=True, on_delete=models.CASCADE, related_name="presets"
    )
    operations = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_system", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_system=True, owner__isnull=True, agency__isnull=True)
                | Q(is_system=False, owner__isnull=False, agency__isnull=True)
                | Q(is_system=False, owner__isnull=True, agency__isnull=False),
                name="preset_has_one_scope",
            ),
            models.UniqueConstraint(
                fields=["slug"], condition=Q(is_system=True), name="preset_system_slug_unique"
            ),
            models.UniqueConstraint(
                fields=["owner", "slug"],
                condition=Q(owner__isnull=False),
                name="preset_user_slug_unique",
            ),
            models.UniqueConstraint(
                fields=["agency", "slug"],
                condition=Q(agency__isnull=False),
                name="preset_agency_slug_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def scope(self) -> str:
        return "system" if self.is_system else ("agency" if self.agency_id else "user")


class Batch(models.Model):
    """Jobs started together; progress is aggregated from its jobs."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="batches"
    )
    preset_name = models.CharField(max_length=120)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    idempotency_key = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "batches"
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="batch_unique_idempotency_key_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.preset_name} × {self.jobs.count()}"


class JobQuerySet(StampedQuerySet):
    """Bulk writes of jobs drop the jobs' stamps (``processing.stamps``)."""

    def rows_changed(self, values: list) -> None:
        stamps.jobs_changed(values)


class Job(models.Model):
    """One photo (or one bracket group) through one preset."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    class Lane(models.TextChoices):
        STANDARD = "standard", "Standard"
        OFFPEAK = "offpeak", "Off-peak (economy)"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="jobs")
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="jobs")
    photo = models.ForeignKey("projects.Photo", on_delete=models.CASCADE, related_name="jobs")
    bracket = models.JSONField(default=list, blank=True, help_text="Photo ids, for hdr_merge.")
    preset = models.ForeignKey(Preset, null=True, on_delete=models.SET_NULL, related_name="jobs")
    preset_name = models.CharField(max_length=120)
    operations = models.JSONField(help_text="The preset's operations when the job was accepted.")
    mask_regions = models.JSONField(default=list, blank=True)
    lane = models.CharField(max_length=10, choices=Lane.choices, default=Lane.STANDARD)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    error_code = models.CharField(max_length=60, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    quota_subject = models.CharField(max_length=40)
    quota_period = models.DateField()
    quota_member = models.CharField(max_length=60, blank=True, help_text="Member cap charged too.")
    reserved_processed = models.PositiveSmallIntegerField(default=0)
    reserved_ai = models.PositiveSmallIntegerField(default=0)
    provider_usage = models.JSONField(default=dict, blank=True)
    cost = models.DecimalField(max_digits=10, decimal_places=6, default=0)
    result_version = models.OneToOneField(
        "projects.PhotoVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="job",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "lane"]),
            models.Index(fields=["batch", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.preset_name} on {self.photo_id} ({self.status})"

    @property
    def uses_ai(self) -> bool:
        return self.reserved_ai > 0


class AIResult(models.Model):
    """A provider's answer, kept so the same request never pays twice. A row without a
    ``storage_key`` is a claim: someone is asking the provider right now, others wait for it."""

    key = models.CharField(max_length=64, unique=True)
    subject = models.CharField(
        max_length=40, blank=True, help_text="The account it belongs to (README: AI result cache)."
    )
    provider = models.CharField(max_length=20)
    model = models.CharField(max_length=60)
    operation = models.CharField(max_length=40)
    storage_key = models.CharField(max_length=300, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True, help_text="The job asking.")
    usage = models.JSONField(default=dict, blank=True)
    cost = models.DecimalField(max_digits=10, decimal_places=6, default=0)
    hits = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.operation} {self.key[:12]}"


class ProviderCall(models.Model):
    """One answer the AI provider was paid for, recorded the moment it arrived, whatever happens
    to the job afterwards (cancelled, failed, deleted): the ledger cost reports are built from."""

    job = models.ForeignKey(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="provider_calls"
    )
    job_ref = models.UUIDField(null=True, blank=True, help_text="The job's id, kept after it goes.")
    subject = models.CharField(max_length=40, help_text="The account: its quota subject.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    provider = models.CharField(max_length=20)
    model = models.CharField(max_length=60)
    operation = models.CharField(max_length=40)
    cache_key = models.CharField(max_length=64)
    usage = models.JSONField(default=dict, blank=True)
    cost = models.DecimalField(max_digits=10, decimal_places=6, default=0)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.operation} {self.cost} USD"


class ProviderCircuit(models.Model):
    """The circuit breaker of one provider operation, shared by every worker: closed (calls go
    through), open (nobody calls until ``retry_at``), probing (one job is trying)."""

    class State(models.TextChoices):
        CLOSED = "closed", "Closed (calls go through)"
        OPEN = "open", "Open (provider down, jobs wait)"
        PROBING = "probing", "Probing (one call tries)"

    provider = models.CharField(max_length=20)
    operation = models.CharField(max_length=40)
    state = models.CharField(max_length=10, choices=State.choices, default=State.CLOSED)
    failures = models.PositiveIntegerField(default=0, help_text="5xx/timeouts in a row.")
    cooldown = models.FloatField(default=0, help_text="Seconds of the current cooling period.")
    opened_at = models.DateTimeField(null=True, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "operation"], name="circuit_unique")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.operation}: {self.state}"


class SpendReconciliation(models.Model):
    """A day's provider spend three ways: our ledger, the result cache, the provider's own
    numbers (None when they could not be read)."""

    day = models.DateField(unique=True)
    recorded_calls = models.PositiveIntegerField(default=0)
    recorded_cost = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    cache_calls = models.PositiveIntegerField(default=0)
    cache_cost = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    provider_calls = models.PositiveIntegerField(null=True, blank=True)
    provider_cost = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    differences = models.JSONField(default=list, blank=True)
    checked_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day}: {'OK' if not self.differences else 'differences'}"

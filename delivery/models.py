"""What leaves the product: portal exports and public share links of a project's gallery."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Export(models.Model):
    """Photos sized for a listing portal: one JPEG, or a ZIP of a whole project in listing order."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="exports"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    profile = models.CharField(max_length=30)
    photo_ids = models.JSONField(help_text="In listing order.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    storage_key = models.CharField(max_length=300, blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    bytes = models.PositiveBigIntegerField(default=0)
    error_message = models.CharField(max_length=500, blank=True)
    warnings = models.JSONField(
        default=dict, blank=True, help_text="Photo id → why the portal gets less than it asks."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "projects_export"  # kept from when exports lived in projects
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.profile} export of {self.project} ({self.status})"


class ShareLink(models.Model):
    """A public, expiring view of a project's gallery for clients and portals: no account needed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    token = models.CharField(max_length=64, unique=True)
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="share_links"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    password_hash = models.CharField(max_length=200, blank=True)
    allow_download = models.BooleanField(default=False)
    photo_ids = models.JSONField(
        default=list, blank=True, help_text="The photos shared; empty: every delivered photo."
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    view_count = models.PositiveIntegerField(default=0)
    last_viewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "projects_sharelink"  # kept from when share links lived in projects
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"share of {self.project}"

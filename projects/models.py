"""Projects hold a property's photos; an original is never modified, every result is a version."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import owned_by_user_xor_agency
from photolisting.stamps import StampedQuerySet
from projects import stamps


class Project(models.Model):
    """A property being photographed, owned by one user or by one agency."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    listing_reference = models.CharField(max_length=100, blank=True)
    address = models.CharField(max_length=300, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="projects",
    )
    agency = models.ForeignKey(
        "accounts.Agency",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="projects",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            owned_by_user_xor_agency("owner", "project_owned_by_user_xor_agency"),
        ]

    def __str__(self) -> str:
        return self.name


class Folder(models.Model):
    """A named group of photos inside a project (rooms, floors, exterior…)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="folders")
    name = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "name"], name="folder_unique_name_in_project"
            )
        ]

    def __str__(self) -> str:
        return self.name


class PhotoQuerySet(StampedQuerySet):
    """Bulk writes of photos drop their projects' photo list stamps (``projects.stamps``)."""

    stamp_field = "project_id"

    def rows_changed(self, values: list) -> None:
        stamps.photos_changed_in(values)


class Photo(models.Model):
    """An original as uploaded: stored untouched, described by what ingest found in its bytes."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        PROCESSING = "processing", _("Processing")
        READY = "ready", _("Ready")
        REJECTED = "rejected", _("Rejected")
        FAILED = "failed", _("Failed")

    IN_FLIGHT = (Status.UPLOADED, Status.PROCESSING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="photos")
    folder = models.ForeignKey(
        Folder, null=True, blank=True, on_delete=models.SET_NULL, related_name="photos"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="photos"
    )
    original_filename = models.CharField(max_length=255, blank=True)
    storage_key = models.CharField(max_length=300, unique=True)
    bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    format = models.CharField(max_length=10, help_text="Format found in the bytes, e.g. JPEG.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UPLOADED)
    # Why the photo is rejected (the file) or failed (our side); the message is the English
    # wording at that moment, for admins and webhooks: people get it from the code, translated.
    rejection_code = models.CharField(max_length=40, blank=True)
    rejection_message = models.CharField(max_length=300, blank=True)
    # When ingest was last asked for (upload, user retry, sweep), and how often the sweep has
    # re-queued it since: the sweep re-queues a stuck photo once, then marks it failed.
    ingest_queued_at = models.DateTimeField(default=timezone.now)
    ingest_sweeps = models.PositiveSmallIntegerField(default=0)
    width = models.PositiveIntegerField(null=True, blank=True, help_text="Upright width.")
    height = models.PositiveIntegerField(null=True, blank=True, help_text="Upright height.")
    orientation = models.PositiveSmallIntegerField(null=True, blank=True)
    phash = models.CharField(max_length=16, blank=True, help_text="64-bit difference hash, hex.")
    captured_at = models.DateTimeField(null=True, blank=True)
    camera_make = models.CharField(max_length=100, blank=True)
    camera_model = models.CharField(max_length=100, blank=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    idempotency_key = models.CharField(max_length=255, blank=True)
    # Listing management: the agent's order (null: after the ordered ones, by upload time) and
    # room label; which version is delivered (null: the newest result; or the original itself).
    position = models.PositiveIntegerField(null=True, blank=True)
    room_label = models.CharField(max_length=60, blank=True)
    delivered_version = models.ForeignKey(
        "PhotoVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deliver_original = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # When anything the API shows of the photo last changed (its versions included): the API's
    # ETags come from it, so every write of a shown field sets it (not an access: last_accessed_at).
    updated_at = models.DateTimeField(auto_now=True)
    ingested_at = models.DateTimeField(null=True, blank=True)
    last_accessed_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = PhotoQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["project", "-created_at"]),
            models.Index(fields=["project", "sha256"]),
            models.Index(
                fields=["ingest_queued_at"],
                condition=Q(status__in=["uploaded", "processing"]),
                name="photo_ingest_in_flight",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["uploaded_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="photo_unique_idempotency_key_per_user",
            )
        ]

    def __str__(self) -> str:
        return self.original_filename or str(self.id)


class StoredImage(models.Model):
    """An encoded image in one of the named storages."""

    storage_key = models.CharField(max_length=300)
    format = models.CharField(max_length=10)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    bytes = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class PhotoVersion(StoredImage):
    """A processed or exported result of a photo; the original stays as it was."""

    class Kind(models.TextChoices):
        PROCESSED = "processed", "Processed"
        EXPORT = "export", "Export"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="versions")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PROCESSED)
    preset_name = models.CharField(max_length=120, blank=True)
    operations = models.JSONField(default=list, blank=True)
    storage_name = models.CharField(max_length=20, default="processed")
    ai_operations = models.JSONField(
        default=list, blank=True, help_text="Generative edits in this version (disclosed)."
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.photo} — {self.preset_name or self.kind}"


class Rendition(StoredImage):
    """A served derivative (thumbnail, preview) of an original or of a version, unique per spec."""

    class Spec(models.TextChoices):
        THUMBNAIL = "thumbnail", "Thumbnail (400 px)"
        PREVIEW = "preview", "Preview (1600 px)"

    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="renditions")
    version = models.ForeignKey(
        PhotoVersion, null=True, blank=True, on_delete=models.CASCADE, related_name="renditions"
    )
    spec = models.CharField(max_length=20, choices=Spec.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["photo", "spec"],
                condition=Q(version__isnull=True),
                name="rendition_unique_spec_per_original",
            ),
            models.UniqueConstraint(
                fields=["version", "spec"],
                condition=Q(version__isnull=False),
                name="rendition_unique_spec_per_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.spec} of {self.version or self.photo}"


class DirectUpload(models.Model):
    """A file the client sends straight to storage (presigned), then completes for ingest.

    Large files go in parts (S3 multipart, or ranged PUTs locally), so an upload cut at 70%
    resumes where it stopped instead of starting again.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="direct_uploads")
    folder = models.ForeignKey(Folder, null=True, blank=True, on_delete=models.SET_NULL)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="direct_uploads"
    )
    filename = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=40)
    size = models.PositiveBigIntegerField(
        help_text="Declared by the client, verified on completion."
    )
    sha256 = models.CharField(max_length=64, help_text="Declared by the client, verified too.")
    storage_key = models.CharField(max_length=300, unique=True)
    multipart_id = models.CharField(max_length=300, blank=True, help_text="S3 multipart upload id.")
    part_size = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error_code = models.CharField(max_length=40, blank=True)
    photo = models.OneToOneField(
        Photo, null=True, blank=True, on_delete=models.SET_NULL, related_name="direct_upload"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.filename or self.id} ({self.status})"

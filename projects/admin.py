from django.contrib import admin, messages
from django.db.models import Count, Prefetch
from django.utils.html import format_html

from projects.links import photo_links
from projects.models import Folder, Photo, PhotoVersion, Project, Rendition
from projects.services import photo_ingest_retry


class FolderInline(admin.TabularInline):
    model = Folder
    extra = 0


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "listing_reference", "owner", "agency", "photo_count", "created_at"]
    list_filter = ["created_at", "agency"]
    list_select_related = ["owner", "agency"]
    search_fields = ["name", "listing_reference", "address", "owner__email", "agency__name"]
    autocomplete_fields = ["owner", "agency", "created_by"]
    date_hierarchy = "created_at"
    inlines = [FolderInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(photo_count=Count("photos"))

    @admin.display(ordering="photo_count", description="photos")
    def photo_count(self, project: Project) -> int:
        return project.photo_count


class RenditionInline(admin.TabularInline):
    model = Rendition
    extra = 0
    fields = ["spec", "version", "format", "width", "height", "bytes", "storage_key"]
    readonly_fields = fields


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    list_display = [
        "thumbnail",
        "original_filename",
        "project",
        "status",
        "format",
        "width",
        "height",
        "megabytes",
        "camera_model",
        "created_at",
    ]
    list_filter = ["status", "format", "rejection_code", "created_at"]
    list_select_related = ["project"]
    search_fields = ["id", "original_filename", "sha256", "project__name", "uploaded_by__email"]
    raw_id_fields = ["folder", "duplicate_of", "delivered_version"]
    autocomplete_fields = ["project", "uploaded_by"]
    # What ingest found in the file: never typed by hand (the status moves through actions).
    readonly_fields = [
        "thumbnail",
        "original_link",
        "status",
        "storage_key",
        "sha256",
        "phash",
        "bytes",
        "format",
        "width",
        "height",
        "orientation",
        "captured_at",
        "camera_make",
        "camera_model",
        "created_at",
        "updated_at",
        "ingested_at",
        "last_accessed_at",
        "archived_at",
        "rejection_code",
        "rejection_message",
        "ingest_queued_at",
        "ingest_sweeps",
    ]
    date_hierarchy = "created_at"
    inlines = [RenditionInline]
    actions = ["retry_ingest"]

    @admin.action(description="Process selected failed or rejected photos again")
    def retry_ingest(self, request, queryset) -> None:
        retryable = queryset.filter(status__in=[Photo.Status.FAILED, Photo.Status.REJECTED])
        for photo in retryable:
            photo_ingest_retry(photo=photo)
        self.message_user(request, f"{len(retryable)} photo(s) queued again.", messages.SUCCESS)

    def get_queryset(self, request):
        originals_only = Rendition.objects.filter(version__isnull=True)
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("renditions", queryset=originals_only))
        )

    @admin.display(description="")
    def thumbnail(self, photo: Photo) -> str:
        links = photo_links(photo)
        if not links["thumbnail"]:
            return photo.get_status_display()
        return format_html(
            '<img src="{}" style="height:48px;border-radius:4px">', links["thumbnail"]
        )

    @admin.display(description="original")
    def original_link(self, photo: Photo) -> str:
        """Staff can download any original, rejected ones included, to see what was sent."""
        return format_html('<a href="{}">Download original</a>', photo_links(photo)["original"])

    @admin.display(ordering="bytes", description="MB")
    def megabytes(self, photo: Photo) -> str:
        return f"{photo.bytes / 1_048_576:.1f}"


@admin.register(PhotoVersion)
class PhotoVersionAdmin(admin.ModelAdmin):
    list_display = ["photo", "kind", "preset_name", "format", "width", "height", "created_at"]
    list_filter = ["kind", "format"]
    list_select_related = ["photo"]
    search_fields = ["photo__original_filename", "preset_name"]
    raw_id_fields = ["photo"]


@admin.register(Folder)
class FolderAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "created_at"]
    list_select_related = ["project"]
    search_fields = ["name", "project__name"]
    raw_id_fields = ["project"]

from django.contrib import admin, messages

from photolisting.errors import ApplicationError
from processing.models import AIResult, Batch, Job, Preset
from processing.services import job_retry


@admin.register(Preset)
class PresetAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "scope", "owner", "agency", "updated_at"]
    list_filter = ["is_system"]
    list_select_related = ["owner", "agency"]
    search_fields = ["name", "slug", "owner__email", "agency__name"]
    raw_id_fields = ["owner", "agency"]


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "preset_name",
        "status",
        "progress",
        "attempts",
        "lane",
        "error_code",
        "cost",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "lane", "error_code", "created_at"]
    list_select_related = ["photo"]
    search_fields = ["id", "preset_name", "photo__original_filename", "created_by__email"]
    raw_id_fields = ["batch", "project", "photo", "preset", "result_version", "created_by"]
    readonly_fields = ["provider_usage", "cost", "attempts", "quota_subject", "quota_period"]
    date_hierarchy = "created_at"
    actions = ["retry_jobs"]

    @admin.action(description="Retry selected failed jobs (reserves quota again)")
    def retry_jobs(self, request, queryset) -> None:
        retried = 0
        for job in queryset.filter(status=Job.Status.FAILED):
            try:
                job_retry(job=job)
                retried += 1
            except ApplicationError as error:
                self.message_user(request, f"{job.id}: {error.message}", messages.WARNING)
        self.message_user(request, f"{retried} job(s) queued again.", messages.SUCCESS)


class JobInline(admin.TabularInline):
    model = Job
    fields = ["photo", "status", "progress", "error_code"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ["id", "preset_name", "project", "created_by", "created_at"]
    list_select_related = ["project", "created_by"]
    search_fields = ["id", "preset_name", "project__name"]
    raw_id_fields = ["project", "created_by"]
    inlines = [JobInline]


@admin.register(AIResult)
class AIResultAdmin(admin.ModelAdmin):
    list_display = ["key", "operation", "provider", "model", "cost", "hits", "created_at"]
    list_filter = ["operation", "provider", "model"]
    search_fields = ["key"]

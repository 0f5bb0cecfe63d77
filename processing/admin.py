from django.contrib import admin, messages

from photolisting.errors import ApplicationError
from processing.models import (
    AIResult,
    Batch,
    Job,
    Preset,
    ProviderCall,
    ProviderCircuit,
    SpendReconciliation,
)
from processing.services import job_cancel, job_retry


@admin.register(Preset)
class PresetAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "scope", "owner", "agency", "updated_at"]
    list_filter = ["is_system"]
    list_select_related = ["owner", "agency"]
    search_fields = ["name", "slug", "owner__email", "agency__name"]
    raw_id_fields = ["owner", "agency"]


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    # Fits a 1366 px screen: the id links the row, the rest is short.
    list_display = [
        "short_id",
        "preset_name",
        "status",
        "progress",
        "lane",
        "error_code",
        "cost",
        "created_at",
    ]
    list_filter = ["status", "lane", "error_code", "created_at"]
    list_select_related = ["photo"]
    search_fields = ["id", "preset_name", "photo__original_filename", "created_by__email"]
    raw_id_fields = ["batch", "photo", "preset", "result_version"]
    autocomplete_fields = ["project", "created_by"]
    readonly_fields = [
        "status",
        "progress",
        "provider_usage",
        "cost",
        "attempts",
        "quota_subject",
        "quota_period",
        "started_at",
        "finished_at",
    ]
    date_hierarchy = "created_at"
    actions = ["retry_jobs", "cancel_jobs"]

    @admin.display(description="job", ordering="id")
    def short_id(self, job: Job) -> str:
        return str(job.id)[:8]

    @admin.action(description="Cancel selected queued or running jobs (gives their quota back)")
    def cancel_jobs(self, request, queryset) -> None:
        cancelled = 0
        for job in queryset.filter(status__in=[Job.Status.QUEUED, Job.Status.RUNNING]):
            try:
                job_cancel(job=job)
                cancelled += 1
            except ApplicationError as error:
                self.message_user(request, f"{job.id}: {error.message}", messages.WARNING)
        self.message_user(request, f"{cancelled} job(s) cancelled.", messages.SUCCESS)

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


@admin.register(ProviderCall)
class ProviderCallAdmin(admin.ModelAdmin):
    list_display = ["created_at", "operation", "model", "cost", "subject", "job", "job_ref"]
    list_filter = ["operation", "provider", "model"]
    search_fields = ["subject", "job_ref", "cache_key"]
    raw_id_fields = ["job", "user"]
    date_hierarchy = "created_at"


@admin.register(ProviderCircuit)
class ProviderCircuitAdmin(admin.ModelAdmin):
    """Where staff see whether AI jobs wait on a provider outage (and since when)."""

    list_display = [
        "provider", "operation", "state", "failures", "opened_at", "retry_at", "last_error",
    ]  # fmt: skip
    list_filter = ["state", "provider"]
    readonly_fields = ["failures", "opened_at", "last_error", "updated_at"]


@admin.register(SpendReconciliation)
class SpendReconciliationAdmin(admin.ModelAdmin):
    list_display = [
        "day", "recorded_calls", "recorded_cost", "cache_calls", "cache_cost",
        "provider_calls", "provider_cost", "reconciles",
    ]  # fmt: skip

    @admin.display(boolean=True, description="reconciles")
    def reconciles(self, report: SpendReconciliation) -> bool:
        return not report.differences

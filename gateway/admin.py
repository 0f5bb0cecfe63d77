from django.contrib import admin

from gateway.models import ApiRequest


@admin.register(ApiRequest)
class ApiRequestAdmin(admin.ModelAdmin):
    """Read-only: the log is written by the API, read by staff."""

    list_display = ["created_at", "method", "route", "status", "duration_ms", "user", "request_id"]
    list_filter = ["method", "status"]
    list_select_related = ["user"]
    search_fields = ["request_id", "route", "user__email"]
    date_hierarchy = "created_at"
    raw_id_fields = ["user"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

from django.contrib import admin

from billing.models import Plan, Subscription, UsageCounter


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "code",
        "monthly_processed_quota",
        "monthly_ai_quota",
        "seats",
        "position",
    ]
    ordering = ["position"]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "agency", "plan", "created_at"]
    list_filter = ["plan"]
    list_select_related = ["user", "agency", "plan"]
    raw_id_fields = ["user", "agency"]
    search_fields = ["user__email", "agency__name"]


@admin.register(UsageCounter)
class UsageCounterAdmin(admin.ModelAdmin):
    list_display = ["subject", "metric", "period_start", "used", "updated_at"]
    list_filter = ["metric", "period_start"]
    search_fields = ["subject"]

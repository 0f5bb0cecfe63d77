from django.contrib import admin

from billing.models import Invoice, Plan, QuotaGrant, StripeEvent, Subscription, UsageCounter


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "code",
        "price_label",
        "monthly_processed_quota",
        "monthly_ai_quota",
        "seats",
        "per_seat",
        "price_monthly",
        "price_yearly",
    ]
    ordering = ["position"]


class InvoiceInline(admin.TabularInline):
    model = Invoice
    fields = ["number", "status", "amount_due", "amount_paid", "currency", "created"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "plan", "status", "current_period_end", "grace_until"]
    list_filter = ["plan", "status"]
    list_select_related = ["user", "agency", "plan"]
    autocomplete_fields = ["user", "agency"]
    search_fields = ["user__email", "agency__name", "stripe_customer_id", "stripe_subscription_id"]
    readonly_fields = ["stripe_customer_id", "stripe_subscription_id", "created_at", "updated_at"]
    inlines = [InvoiceInline]


@admin.register(UsageCounter)
class UsageCounterAdmin(admin.ModelAdmin):
    list_display = ["subject", "metric", "period_start", "used", "warned_percent", "updated_at"]
    list_filter = ["metric", "period_start"]
    search_fields = ["subject"]


@admin.register(QuotaGrant)
class QuotaGrantAdmin(admin.ModelAdmin):
    """Grants are added, never edited or deleted: each row is the audit record."""

    list_display = [
        "subject",
        "metric",
        "amount",
        "period_start",
        "reason",
        "granted_by",
        "created_at",
    ]
    list_filter = ["metric"]
    search_fields = ["subject", "reason", "granted_by__email"]
    fields = ["subject", "metric", "amount", "reason"]

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        from billing.services import quota_grant

        grant = quota_grant(
            subject_key=obj.subject,
            metric=obj.metric,
            amount=obj.amount,
            reason=obj.reason,
            granted_by=request.user,
        )
        obj.pk = grant.pk
        obj.period_start, obj.granted_by = grant.period_start, grant.granted_by


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ["id", "type", "created", "processed_at"]
    list_filter = ["type"]
    search_fields = ["id"]


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ["number", "subscription", "status", "amount_due", "amount_paid", "created"]
    list_filter = ["status"]
    search_fields = ["number", "stripe_id"]
    raw_id_fields = ["subscription"]

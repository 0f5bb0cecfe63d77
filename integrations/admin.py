from django.contrib import admin, messages

from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.services import delivery_replay


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "owner", "agency", "is_active", "consecutive_failures", "created_at"]
    list_filter = ["is_active"]
    list_select_related = ["owner", "agency"]
    search_fields = ["url", "owner__email", "agency__name"]
    raw_id_fields = ["owner", "agency"]
    exclude = ["secret"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["event_type", "endpoint", "status", "attempts", "response_status", "created_at"]
    list_filter = ["status", "event_type"]
    list_select_related = ["endpoint"]
    search_fields = ["event_id", "endpoint__url"]
    raw_id_fields = ["endpoint", "replay_of"]
    actions = ["replay"]

    @admin.action(description="Replay selected deliveries")
    def replay(self, request, queryset) -> None:
        for delivery in queryset:
            delivery_replay(delivery=delivery)
        self.message_user(request, f"{queryset.count()} delivery(ies) replayed.", messages.SUCCESS)

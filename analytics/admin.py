"""Anomalies (acknowledge, resolve) and the audit trail, which nobody edits or deletes."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from analytics.anomalies import anomaly_acknowledge, anomaly_resolve
from analytics.models import Anomaly, AuditEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the product, shown to staff as they are."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_email", "action", "target_type", "target_repr", "ip"]
    list_filter = ["action", "target_type", "at"]
    search_fields = ["actor_email", "target_id", "target_repr", "message", "reason"]
    date_hierarchy = "at"
    fields = [
        "at",
        "actor",
        "actor_email",
        "action",
        "target_type",
        "target_id",
        "target_repr",
        "values",
        "message",
        "reason",
        "ip",
    ]
    readonly_fields = fields

    @admin.display(description=_("before → after"))
    def values(self, entry: AuditEntry) -> str:
        names = sorted(set(entry.before) | set(entry.after))
        return format_html_join(
            "\n",
            "<div><code>{}</code>: {} → {}</div>",
            ((name, entry.before.get(name, "—"), entry.after.get(name, "—")) for name in names),
        )


@admin.register(Anomaly)
class AnomalyAdmin(admin.ModelAdmin):
    list_display = ["detected_at", "severity", "kind", "summary", "state", "acknowledged_by"]
    list_filter = ["state", "severity", "kind", "day"]
    search_fields = ["summary", "subject_key", "key"]
    list_select_related = ["acknowledged_by"]
    readonly_fields = [
        "key",
        "kind",
        "severity",
        "subject_type",
        "subject_key",
        "metric",
        "day",
        "summary",
        "evidence",
        "detected_at",
        "last_seen_at",
        "notified_at",
        "acknowledged_by",
        "acknowledged_at",
        "resolved_at",
    ]
    fields = ["state", *readonly_fields]
    actions = ["acknowledge", "resolve"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Acknowledge selected anomalies"))
    def acknowledge(self, request, queryset) -> None:
        rows = list(queryset.exclude(state=Anomaly.State.RESOLVED))
        for anomaly in rows:
            anomaly_acknowledge(anomaly=anomaly, by=request.user)
        self.message_user(
            request,
            ngettext("%d anomaly acknowledged.", "%d anomalies acknowledged.", len(rows))
            % len(rows),
            messages.SUCCESS,
        )

    @admin.action(description=_("Resolve selected anomalies"))
    def resolve(self, request, queryset) -> None:
        rows = list(queryset)
        for anomaly in rows:
            anomaly_resolve(anomaly=anomaly)
        self.message_user(
            request,
            ngettext("%d anomaly resolved.", "%d anomalies resolved.", len(rows)) % len(rows),
            messages.SUCCESS,
        )

    def save_model(self, request, obj, form, change) -> None:
        """Changing the state by hand goes through the same services as the actions."""
        if "state" in form.changed_data and obj.state == Anomaly.State.ACKNOWLEDGED:
            anomaly_acknowledge(anomaly=obj, by=request.user)
        elif "state" in form.changed_data and obj.state == Anomaly.State.RESOLVED:
            anomaly_resolve(anomaly=obj)
        else:
            super().save_model(request, obj, form, change)

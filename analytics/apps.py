from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """Usage events, their daily aggregates, anomalies and the audit trail of admin actions.

    It sits low (just above ``imaging``) so every service can record what happened; what reads
    the other apps (the dashboard, the daily report, system-wide checks) lives in ``backoffice``."""

    name = "analytics"
    verbose_name = "Analytics"

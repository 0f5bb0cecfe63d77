from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    """The staff's side, on top of the other apps: the admin site (sections, audit hook,
    dashboard), the daily report, and anomaly checks that read other apps."""

    name = "backoffice"
    verbose_name = "Back office"

from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Running the product: health and readiness, metrics, smoke test, migration safety."""

    name = "operations"
    default_auto_field = "django.db.models.BigAutoField"

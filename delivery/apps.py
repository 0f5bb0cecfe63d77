from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    """Getting photos out: signed links and the file view, portal exports, share links and the
    public gallery."""

    name = "delivery"

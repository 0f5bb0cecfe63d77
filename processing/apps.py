from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ProcessingConfig(AppConfig):
    name = "processing"

    def ready(self) -> None:
        from processing import stamps

        post_migrate.connect(_sync_presets, sender=self)
        stamps.connect()


def _sync_presets(**kwargs) -> None:
    """Shipped presets follow presets.json after every migrate (and test flush)."""
    from processing.services import presets_sync_system

    presets_sync_system()

"""Celery tasks for delivery: thin, take ids, call a service."""

from __future__ import annotations

from celery import shared_task

from delivery.exports import export_build


@shared_task(acks_late=True, reject_on_worker_lost=True)
def build_export(export_id: str, language: str | None = None) -> str | None:
    export = export_build(export_id=export_id, language=language)
    return export.status if export else None

"""Celery tasks for webhooks: thin, take ids, call a service."""

from __future__ import annotations

from celery import shared_task

from integrations.services import delivery_attempt


@shared_task(acks_late=True)
def deliver_webhook(delivery_id: str) -> str | None:
    delivery = delivery_attempt(delivery_id=delivery_id)
    return delivery.status if delivery else None

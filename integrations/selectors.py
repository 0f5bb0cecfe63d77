"""Reads of webhook endpoints and their deliveries, scoped to who may manage them."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from accounts.permissions import manageable_by
from integrations.models import WebhookDelivery, WebhookEndpoint


def endpoint_list(*, user: User) -> QuerySet[WebhookEndpoint]:
    """Webhooks are an admin's tool: a plain agency member neither sees nor changes the
    agency's endpoints (their URLs, logs and replays), as only admins may create one."""
    return WebhookEndpoint.objects.filter(manageable_by(user))


def delivery_list(*, user: User) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(endpoint__in=endpoint_list(user=user))

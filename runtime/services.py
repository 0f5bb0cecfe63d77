"""Writes for operational switches: each write drops the cached value so all processes see it."""

from __future__ import annotations

from django.db import transaction

from runtime.models import Switch
from runtime.switches import REGISTRY, forget


@transaction.atomic
def switch_set(*, name: str, text: str, user=None) -> Switch:
    """Sets a registered switch from its text form; an unparsable value raises ValueError."""
    REGISTRY[name].parse(text)
    switch, _ = Switch.objects.update_or_create(
        name=name, defaults={"value": text.strip(), "updated_by": user}
    )
    transaction.on_commit(lambda: forget(name))
    return switch


@transaction.atomic
def switch_reset(*, name: str) -> None:
    """Back to the default from settings."""
    Switch.objects.filter(name=name).delete()
    transaction.on_commit(lambda: forget(name))

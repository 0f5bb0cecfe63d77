"""Operational switches set by staff while the product runs (``runtime.switches`` reads them)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Switch(models.Model):
    """A switch's value as text, parsed by its registry entry; no row means its default."""

    name = models.CharField(max_length=60, unique=True)
    value = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} = {self.value}"

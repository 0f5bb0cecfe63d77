"""The API request log: a sample of API calls, for staff to see who calls what and how it went.
Only the route pattern is kept (never the path's ids or tokens), and no body or header."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiRequest(models.Model):
    # When the call was answered (entries are written in batches, after it).
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    method = models.CharField(max_length=8)
    route = models.CharField(max_length=200, help_text="The URL pattern, e.g. photos/<pk>/.")
    status = models.PositiveSmallIntegerField()
    duration_ms = models.FloatField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    request_id = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API request"

    def __str__(self) -> str:
        return f"{self.method} {self.route} {self.status}"

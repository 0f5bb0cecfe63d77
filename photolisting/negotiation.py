"""The API's content negotiation (``DEFAULT_CONTENT_NEGOTIATION_CLASS``), in a module of its own:
DRF imports it while ``rest_framework.views`` loads, before ``photolisting.api`` can be."""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation


class FastContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, settled at once in the usual cases — no ``Accept``, ``*/*`` or exactly
    the first renderer's type, and no format override — as DRF settles them after parsing the
    header: it runs on every API call."""

    def select_renderer(self, request, renderers, format_suffix=None):
        first = renderers[0]
        if (
            not format_suffix
            and request.META.get("HTTP_ACCEPT", "*/*") in ("*/*", first.media_type)
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            return first, first.media_type
        return super().select_renderer(request, renderers, format_suffix)

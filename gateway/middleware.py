"""Samples API calls into the request log (``API_LOG_SAMPLE_RATE``; every server error is kept)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from gateway.services import api_request_record


class ApiRequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        if response.status_code >= 500 or random.random() < settings.API_LOG_SAMPLE_RATE:
            api_request_record(
                request=request,
                status=response.status_code,
                duration_ms=(time.perf_counter() - started) * 1000,
            )
        return response

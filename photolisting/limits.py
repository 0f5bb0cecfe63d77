"""Request bodies have a size limit checked on the Content-Length header, before anything reads
the body: a 300 MB PUT is answered 413 at once, with nothing buffered. (Django reads no more than
Content-Length, and nothing without it, so the header is the whole story under WSGI.)"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.translation import gettext

from photolisting.api import error_body


def request_body_length(request: HttpRequest) -> int:
    """The declared body size; a missing or malformed header counts as an empty body, as Django
    itself reads it."""
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


class RequestSizeLimitMiddleware:
    """413 for any body over REQUEST_MAX_BYTES (the largest photo plus multipart framing)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request_body_length(request) > settings.REQUEST_MAX_BYTES:
            limit_mb = settings.REQUEST_MAX_BYTES // (1024 * 1024)
            # Answered before LocaleMiddleware runs: the reader's language is looked up here.
            with translation.override(translation.get_language_from_request(request)):
                message = gettext("The request is larger than the %(limit)s MB limit.") % {
                    "limit": limit_mb
                }
            return JsonResponse(error_body("request_too_large", message), status=413)
        return self.get_response(request)

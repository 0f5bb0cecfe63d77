"""API plumbing shared by every app: one JSON error shape, cursor pagination, one way to fetch
a row by the id a client sent."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from photolisting.errors import ApplicationError, NotFound


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every refusal as ``{"error": {"code", "message", "details"}}`` with a fitting status."""
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.ValidationError):
        code = "validation_error"
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        message = _first_message(details) or gettext("The request is not valid.")
    else:
        details = {}
        message = str(exc.detail)
    response.data = error_body(code, message, details)
    return response


def _first_message(details: Any) -> str:
    if isinstance(details, dict):
        for field_name, value in details.items():
            message = _first_message(value)
            if message:
                return message if field_name == "non_field_errors" else f"{field_name}: {message}"
    if isinstance(details, list) and details:
        return _first_message(details[0])
    if isinstance(details, str):
        return details
    return ""


def server_error(request: HttpRequest) -> HttpResponse:
    """A crash is still answered in the API's error shape; pages get the 500 template."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body(
                "server_error", gettext("Something went wrong on our side; it has been logged.")
            ),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    return defaults.server_error(request)


def api_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(
        error_body("not_found", gettext("No API endpoint at %(path)s.") % {"path": request.path}),
        status=status.HTTP_404_NOT_FOUND,
    )


class CreatedAtCursorPagination(CursorPagination):
    """Stable pages under concurrent inserts: newest first, ties broken by id."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def validated(serializer_class, data, **kwargs) -> dict:
    """Input validated by a serializer; a ValidationError becomes a 400 in the error shape."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def get_visible(queryset: QuerySet, object_id: object, noun: str):
    """One row of an already scoped queryset. A malformed id (``abc``, ``null``, empty) is as
    missing as a foreign one: 404, never a 500 and never a hint that the row exists."""
    try:
        pk = queryset.model._meta.pk.to_python(object_id)
    except (DjangoValidationError, TypeError, ValueError):
        pk = None
    found = queryset.filter(pk=pk).first() if pk not in (None, "") else None
    if found is None:
        # The code names what was asked for; the words stay general so every noun translates.
        raise NotFound(
            gettext("Nothing with this id exists, or you cannot see it."),
            code=f"{noun.replace(' ', '_')}_not_found",
        )
    return found

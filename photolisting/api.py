"""API plumbing shared by every app: one JSON error shape, cursor pagination, one way to fetch
a row by the id a client sent."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import orjson
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags
from django.utils.translation import get_language, gettext
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder
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


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A request Django refuses before any view (too many form fields, a hostile host) is still
    answered in the API's error shape under ``/api/``; pages get the 400 template."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body("bad_request", gettext("The request is not valid.")),
            status=status.HTTP_400_BAD_REQUEST,
        )
    return defaults.bad_request(request, exception)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Anything under ``/api/`` that no route takes is a JSON 404; pages get the 404 template."""
    if request.path.startswith("/api/"):
        return api_not_found(request, exception)
    return defaults.page_not_found(request, exception)


@csrf_exempt  # a POST to a path that does not exist is a 404, not a CSRF page
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


_DB_INTEGERS = (-(2**63), 2**63 - 1)


def parsed_pk(model, object_id: object):
    """The primary key a client sent, as the column holds it; None when it is malformed
    (``abc``, ``null``, empty) or beyond what the column can hold."""
    try:
        pk = model._meta.pk.to_python(object_id)
    except (DjangoValidationError, TypeError, ValueError):
        return None
    if isinstance(pk, int) and not _DB_INTEGERS[0] <= pk <= _DB_INTEGERS[1]:
        return None  # no row has it, and the database would overflow before saying so
    return None if pk == "" else pk


def not_visible(noun: str) -> NotFound:
    # The code names what was asked for; the words stay general so every noun translates.
    return NotFound(
        gettext("Nothing with this id exists, or you cannot see it."),
        code=f"{noun.replace(' ', '_')}_not_found",
    )


def visible_row(shape, object_id: object, noun: str, **arguments) -> dict:
    """One row of a compiled query shape (``photolisting.queries``) already scoped to its caller
    by ``arguments``, looked up by primary key as ``get_visible`` does: 404 when malformed or
    not visible."""
    pk = parsed_pk(shape.model, object_id)
    found = shape.rows(pk=pk, **arguments) if pk is not None else []
    if not found:
        raise not_visible(noun)
    return found[0]


def get_visible(queryset: QuerySet, object_id: object, noun: str):
    """One row of an already scoped queryset. A malformed id is as missing as a foreign one:
    404, never a 500 and never a hint that the row exists."""
    pk = parsed_pk(queryset.model, object_id)
    found = queryset.filter(pk=pk).first() if pk is not None else None
    if found is None:
        raise not_visible(noun)
    return found


class FastJSONRenderer(JSONRenderer):
    """The same JSON as DRF's renderer (dates as DRF writes them, lazy strings, decimals),
    encoded by orjson: the hot read paths answer hundreds of entries."""

    _fallback = JSONEncoder()

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(
            data,
            default=self._fallback.default,
            option=orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS,
        )


def etag(request: Request, *state: object) -> str:
    """A validator for an answer built from ``state`` (what the rows say changed) for this
    caller: their id, language, host and the query all shape the body, and so does the
    signed-link window (links in a body change when it turns over). Written out by orjson
    (anything it cannot write by its ``repr``): a job's forty values take 1 µs, not 9."""
    window = settings.SIGNED_URL_WINDOW
    now = int(time.time())
    identity = orjson.dumps(
        (
            state,
            request.user.pk,
            get_language(),
            request.build_absolute_uri(),
            now // window if window else now,
        ),
        default=repr,
        option=orjson.OPT_NON_STR_KEYS,
    )
    return f'"{hashlib.sha256(identity).hexdigest()[:32]}"'


def not_modified(request: Request, tag: str) -> HttpResponse | None:
    """304 when the caller already holds this answer (``If-None-Match``), else None. A plain
    Django answer: it has no body, so DRF has nothing to negotiate or render."""
    held = parse_etags(request.headers.get("If-None-Match", ""))
    if "*" in held or tag in (candidate.removeprefix("W/") for candidate in held):
        return validated_response(HttpResponseNotModified(), tag)
    return None


def validated_response(response: HttpResponse, tag: str) -> HttpResponse:
    """Marks an answer with its validator: clients keep it and revalidate every time; it is
    theirs alone (``private``) and differs by language and credentials."""
    response["ETag"] = tag
    response["Cache-Control"] = "private, no-cache"
    patch_vary_headers(response, ("Accept-Language", "Authorization", "Cookie"))
    return response


# Bodies kept for their validator are at most this big (a page of 200 photos is about 600 kB),
# for at most this long: polling clients revalidate (304) and need no kept body, so the cache
# holds what several devices or tabs of one reader ask within a minute.
_MAX_KEPT_BODY = 1 << 20
_MAX_KEPT_SECONDS = 60


class KeptBodies:
    """The bodies this process answered lately, by validator, up to ``max_bytes``: a body asked
    again is answered without a cache round trip, the most frequent case for an app or gallery
    reloading a page. A validator names one body (it covers everything the body shows), so a
    kept body is never stale; the oldest go first when the room is needed."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._bodies: OrderedDict[str, tuple[bytes, float]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str, now: float) -> bytes | None:
        with self._lock:
            kept = self._bodies.get(key)
            if kept is None:
                return None
            if kept[1] <= now:
                self._drop(key)
                return None
            self._bodies.move_to_end(key)
            return kept[0]

    def put(self, key: str, body: bytes, until: float) -> None:
        with self._lock:
            if key in self._bodies:
                self._drop(key)
            self._bodies[key] = (body, until)
            self._size += len(body)
            while self._size > self.max_bytes:
                self._drop(next(iter(self._bodies)))

    def clear(self) -> None:
        with self._lock:
            self._bodies.clear()
            self._size = 0

    def _drop(self, key: str) -> None:
        self._size -= len(self._bodies.pop(key)[0])


kept_bodies = KeptBodies(max_bytes=32 * _MAX_KEPT_BODY)


def conditional_json(request: Request, tag: str, build: Callable[[], Any]) -> HttpResponse:
    """A JSON answer behind its validator ``tag``: 304 when the caller holds it; else the body
    kept for this validator (in this process, else in the shared cache), else ``build()``
    rendered and kept (a minute at most, never past the signed-link window): the validator
    covers everything the body shows, so a change makes a new validator and a new body, never a
    stale one."""
    if (unchanged := not_modified(request, tag)) is not None:
        return unchanged
    window = settings.SIGNED_URL_WINDOW
    key = f"api-body:{tag}"
    now = time.time()
    body = None
    if window:
        keep_for = min(window - int(now) % window, _MAX_KEPT_SECONDS)
        body = kept_bodies.get(key, now)
        if body is None and (body := cache.get(key)) is not None:
            kept_bodies.put(key, body, until=now + keep_for)
    if body is None:
        body = FastJSONRenderer().render(build())
        if window and len(body) <= _MAX_KEPT_BODY:
            cache.set(key, body, timeout=keep_for)
            kept_bodies.put(key, body, until=now + keep_for)
    return validated_response(HttpResponse(body, content_type="application/json"), tag)


class _ErrorDetail(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, for programs.")
    message = serializers.CharField(help_text="For people, in the caller's language.")
    details = serializers.DictField(required=False, help_text="Per field or per item, if any.")


class ErrorOutput(serializers.Serializer):
    """The one error shape (``error_body``), a component every refusal refers to."""

    error = _ErrorDetail()


# A list answered whole (no pagination) of objects whose keys the operation describes in words.
ARRAY_OF_OBJECTS = {"type": "array", "items": {"type": "object", "additionalProperties": {}}}

_BODY_METHODS = {"POST", "PUT", "PATCH"}
_REFUSALS = {
    400: "The request is not valid (``details`` per field).",
    401: "Not signed in, or the access token expired.",
    402: "The plan does not include this, or its quota is spent (``details`` name a plan).",
    403: "Signed in, but not allowed (role, CSRF for the browser session).",
    404: "Nothing with this id exists, or you cannot see it.",
    409: "Conflicts with the current state.",
    413: "The body is over the size limit; refused unread.",
    415: "The body's media type or file format is not accepted.",
    422: "Well-formed, but cannot be done as asked.",
    429: "Too many requests: wait ``Retry-After`` seconds.",
    503: "A service this needs is not available now; try again later.",
}


def also_answers(*statuses: int):
    """Marks a view method with the statuses it answers beyond what ``APIAutoSchema`` infers
    (a plan refusal, a conflict, ``304`` behind an ETag), so the schema documents them."""

    def mark(method):
        method.also_answers = (*getattr(method, "also_answers", ()), *statuses)
        return method

    return mark


class APIAutoSchema(AutoSchema):
    """Documents every refusal an operation can answer, in the shared error shape: those the
    shared machinery answers anywhere (validation, sign-in, permission, unknown id, throttle,
    body size and type) inferred from the operation, plus each method's ``also_answers``."""

    def _get_response_bodies(self, direction="response") -> dict:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        method = getattr(self.view, self.method.lower(), None)
        for code in sorted(self._inferred_statuses() | set(getattr(method, "also_answers", ()))):
            if code == status.HTTP_304_NOT_MODIFIED:
                description = "Unchanged since the ``ETag`` sent in ``If-None-Match``; no body."
                responses.setdefault("304", {"description": description})
                continue
            answer = OpenApiResponse(ErrorOutput, description=_REFUSALS[code])
            responses.setdefault(str(code), self._get_response_for_code(answer, str(code)))
        return responses

    def _inferred_statuses(self) -> set[int]:
        statuses = {status.HTTP_429_TOO_MANY_REQUESTS}
        if not any(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            statuses |= {status.HTTP_401_UNAUTHORIZED, status.HTTP_403_FORBIDDEN}
        has_body = self.method in _BODY_METHODS
        queried = bool(self.get_override_parameters())
        # Ids in the path, the query or the body are looked up (404); a list's cursor can be
        # stale (404).
        if "{" in self.path or has_body or queried or self._is_list_view():
            statuses.add(status.HTTP_404_NOT_FOUND)
        # A query is validated; any change can break a rule of the service it calls.
        if queried or self.method != "GET":
            statuses.add(status.HTTP_400_BAD_REQUEST)
        if has_body:
            statuses |= {413, 415}
        return statuses

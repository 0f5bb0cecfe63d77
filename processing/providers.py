"""Generative image-edit providers behind one interface; OpenAI's images.edit first.

A provider turns (image, optional mask, prompt, size) into an edited image plus what it cost.
Refusals (400: content policy, bad input) are final. One ``edit`` is one HTTP request (the SDK's
own retries are off): rate limits, server errors and timeouts come back as ``ProviderUnavailable``
and ``processing.guard`` decides whether to try again, so every request is counted and bounded.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Protocol

import openai
from django.conf import settings

from photolisting.observability import (
    PROVIDER_CALLS,
    PROVIDER_COST,
    PROVIDER_DURATION,
    REQUEST_ID_HEADER,
    current_request_id,
)


class ProviderRefused(Exception):
    """The provider said no for good (content policy, invalid request): do not retry."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class ProviderUnavailable(Exception):
    """Rate limited, timed out or failing on the provider's side: try later. ``outage`` is a
    5xx, a timeout or no connection (what opens the circuit breaker), not a 429."""

    def __init__(self, message: str, *, outage: bool = True, retry_after: float | None = None):
        super().__init__(message)
        self.outage, self.retry_after = outage, retry_after


@dataclass(frozen=True)
class ProviderDay:
    """The provider's own count of a day: requests it served and what it billed (USD)."""

    calls: int
    cost: Decimal


@dataclass(frozen=True)
class EditResult:
    image: bytes
    model: str
    usage: dict = field(default_factory=dict)
    cost: Decimal = Decimal("0")


class ImageEditProvider(Protocol):
    name: str
    model: str

    def edit(
        self, *, image_png: bytes, mask_png: bytes | None, prompt: str, size: str
    ) -> EditResult: ...

    def usage_of_day(self, day: date) -> ProviderDay | None: ...


# Sizes GPT image models accept, by aspect ratio.
SUPPORTED_SIZES = ((1024, 1024), (1536, 1024), (1024, 1536))


def supported_size(width: int, height: int) -> tuple[int, int]:
    """The supported size whose aspect ratio is closest to the photo's."""
    ratio = width / height
    return min(SUPPORTED_SIZES, key=lambda size: abs(size[0] / size[1] - ratio))


class OpenAIImageProvider:
    name = "openai"

    def __init__(self) -> None:
        self.model = settings.OPENAI_IMAGE_MODEL
        self.client = openai.OpenAI(
            api_key=settings.OPENAI_API_KEY or "missing",
            base_url=settings.OPENAI_BASE_URL or None,
            admin_api_key=settings.OPENAI_ADMIN_KEY or None,
            timeout=settings.OPENAI_TIMEOUT,
            max_retries=0,  # processing.guard retries, counting every request
        )

    def edit(
        self, *, image_png: bytes, mask_png: bytes | None, prompt: str, size: str
    ) -> EditResult:
        if not settings.OPENAI_API_KEY:
            raise ProviderRefused("provider_not_configured", "OPENAI_API_KEY is not set.")
        arguments = {
            "model": self.model,
            "image": ("photo.png", image_png, "image/png"),
            "prompt": prompt,
            "size": size,
            "n": 1,
            "quality": settings.OPENAI_IMAGE_QUALITY,
        }
        if mask_png is not None:
            arguments["mask"] = ("mask.png", mask_png, "image/png")
        request_id = current_request_id()
        if request_id:  # the provider's logs and ours can be matched on a support ticket
            arguments["extra_headers"] = {REQUEST_ID_HEADER: request_id}
        outcome = "unavailable"
        try:
            with PROVIDER_DURATION.labels(self.name).time():
                response = self.client.images.edit(**arguments)
            outcome = "ok"
        except openai.BadRequestError as error:
            outcome = "refused"
            body = error.body if isinstance(error.body, dict) else {}
            raise ProviderRefused(
                str(body.get("code") or "provider_refused"), str(body.get("message") or error)
            ) from error
        except (openai.AuthenticationError, openai.PermissionDeniedError) as error:
            outcome = "refused"
            raise ProviderRefused("provider_auth_failed", str(error)) from error
        except openai.APIConnectionError as error:  # timeouts included
            raise ProviderUnavailable(str(error)) from error
        except openai.APIStatusError as error:  # 429 (not an outage), 5xx, others
            raise ProviderUnavailable(
                str(error),
                outage=error.status_code >= 500,
                retry_after=_retry_after(error.response),
            ) from error
        finally:
            PROVIDER_CALLS.labels(self.name, outcome).inc()
        usage = response.usage.model_dump() if response.usage else {}
        cost = openai_cost(usage)
        PROVIDER_COST.labels(self.name).inc(float(cost))
        return EditResult(
            image=base64.b64decode(response.data[0].b64_json),
            model=self.model,
            usage=usage,
            cost=cost,
        )

    def usage_of_day(self, day: date) -> ProviderDay | None:
        """The organisation's image requests and costs for a UTC day, from OpenAI's usage and
        costs APIs (admin key); None without an admin key."""
        if not settings.OPENAI_ADMIN_KEY:
            return None
        start = int(datetime.combine(day, time.min, tzinfo=UTC).timestamp())
        window = {"start_time": start, "end_time": start + 86400, "bucket_width": "1d"}
        usage = self.client.admin.organization.usage
        images = usage.images(**window, sources=["image.edit"])
        costs = usage.costs(**window)
        return ProviderDay(
            calls=sum(r.num_model_requests for b in images.data for r in b.results),
            cost=sum(
                (Decimal(str(r.amount.value)) for b in costs.data for r in b.results if r.amount),
                Decimal(0),
            ),
        )


def _retry_after(response) -> float | None:
    """Seconds the provider asked us to wait (``retry-after-ms`` or ``retry-after``)."""
    headers = response.headers if response is not None else {}
    for name, scale in (("retry-after-ms", 1000), ("retry-after", 1)):
        try:
            return float(headers[name]) / scale
        except (KeyError, ValueError):
            continue
    return None


def openai_cost(usage: dict) -> Decimal:
    """USD from token counts, at the per-million prices configured for the model."""
    details = usage.get("input_tokens_details") or {}
    image_in = Decimal(details.get("image_tokens", usage.get("input_tokens", 0)) or 0)
    text_in = Decimal(details.get("text_tokens", 0) or 0)
    out = Decimal(usage.get("output_tokens", 0) or 0)
    million = Decimal(1_000_000)
    prices = settings.OPENAI_PRICES_PER_MILLION
    return (
        image_in * Decimal(prices["image_input"])
        + text_in * Decimal(prices["text_input"])
        + out * Decimal(prices["output"])
    ) / million


def get_provider() -> ImageEditProvider:
    return {"openai": OpenAIImageProvider}[settings.AI_PROVIDER]()

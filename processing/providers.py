"""Generative image-edit providers behind one interface; OpenAI's images.edit first.

A provider turns (image, optional mask, prompt, size) into an edited image plus what it cost.
Refusals (400: content policy, bad input) are final; rate limits and server errors are retried
with backoff by the SDK and, once exhausted, reported as unavailable so the job can retry later.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

import openai
from django.conf import settings


class ProviderRefused(Exception):
    """The provider said no for good (content policy, invalid request): do not retry."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class ProviderUnavailable(Exception):
    """Rate limited, timed out or failing on the provider's side, after retries: try later."""


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
            timeout=settings.OPENAI_TIMEOUT,
            max_retries=settings.OPENAI_MAX_RETRIES,
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
        try:
            response = self.client.images.edit(**arguments)
        except openai.BadRequestError as error:
            body = error.body if isinstance(error.body, dict) else {}
            raise ProviderRefused(
                str(body.get("code") or "provider_refused"), str(body.get("message") or error)
            ) from error
        except (openai.AuthenticationError, openai.PermissionDeniedError) as error:
            raise ProviderRefused("provider_auth_failed", str(error)) from error
        except (
            openai.APIConnectionError,
            openai.RateLimitError,
            openai.InternalServerError,
        ) as error:
            raise ProviderUnavailable(str(error)) from error
        except openai.APIStatusError as error:
            raise ProviderUnavailable(str(error)) from error
        usage = response.usage.model_dump() if response.usage else {}
        return EditResult(
            image=base64.b64decode(response.data[0].b64_json),
            model=self.model,
            usage=usage,
            cost=openai_cost(usage),
        )


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

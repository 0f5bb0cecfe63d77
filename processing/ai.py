"""Runs generative edits for a job: right size in, full size out, masked pixels only, and a
cache keyed by (input, operation, params, model) so the same request never pays twice."""

from __future__ import annotations

import hashlib
import io
import json
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import cv2
import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db.models import F, Q
from django.utils import timezone
from PIL import Image

from processing.models import AIResult
from processing.providers import ImageEditProvider, supported_size

CACHE_PREFIX = "ai-cache"


@dataclass
class AIUsage:
    """What a job's generative edits cost, across calls and cache hits."""

    calls: int = 0
    cache_hits: int = 0
    cost: Decimal = Decimal("0")
    tokens: dict = field(default_factory=dict)

    def add(self, usage: dict, cost: Decimal) -> None:
        self.calls += 1
        self.cost += cost
        for name in ("input_tokens", "output_tokens", "total_tokens"):
            self.tokens[name] = self.tokens.get(name, 0) + int(usage.get(name) or 0)

    def as_json(self) -> dict:
        return {"calls": self.calls, "cache_hits": self.cache_hits, **self.tokens}


def png_bytes(image: np.ndarray | Image.Image) -> bytes:
    picture = image if isinstance(image, Image.Image) else Image.fromarray(image)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def region_mask(shape: tuple[int, int], regions: list) -> np.ndarray:
    """A boolean mask (True = to edit) from boxes [x0, y0, x1, y1] in 0..1."""
    height, width = shape
    mask = np.zeros((height, width), dtype=bool)
    for x0, y0, x1, y1 in regions:
        mask[
            int(y0 * height) : int(np.ceil(y1 * height)), int(x0 * width) : int(np.ceil(x1 * width))
        ] = True
    return mask


class AIRunner:
    def __init__(self, provider: ImageEditProvider, *, claimant: str = "") -> None:
        self.provider = provider
        self.claimant = claimant  # a job: its own earlier, interrupted attempt never blocks it
        self.usage = AIUsage()

    def edit(
        self,
        image: np.ndarray,
        *,
        operation: str,
        prompt: str,
        params: dict,
        mask_regions: list | None = None,
    ) -> np.ndarray:
        height, width = image.shape[:2]
        send_w, send_h = supported_size(width, height)
        sent = cv2.resize(image, (send_w, send_h), interpolation=cv2.INTER_AREA)
        mask = region_mask((height, width), mask_regions) if mask_regions else None
        mask_png = None
        if mask is not None:
            small_mask = region_mask((send_h, send_w), mask_regions)
            # OpenAI's convention: fully transparent where the image should be edited.
            rgba = np.dstack([sent, np.where(small_mask, 0, 255).astype(np.uint8)])
            mask_png = png_bytes(Image.fromarray(rgba, "RGBA"))
        key = self._cache_key(sent, operation, params, prompt, mask_regions)
        result_png = self._cached(key) or self._claim_or_wait(key, operation)
        if result_png is None:
            try:
                answer = self.provider.edit(
                    image_png=png_bytes(sent),
                    mask_png=mask_png,
                    prompt=prompt,
                    size=f"{send_w}x{send_h}",
                )
            except Exception:
                AIResult.objects.filter(key=key, storage_key="").delete()  # let others try
                raise
            self.usage.add(answer.usage, answer.cost)
            result_png = answer.image
            self._remember(key, operation, answer)
        edited = np.asarray(Image.open(io.BytesIO(result_png)).convert("RGB"))
        full = cv2.resize(edited, (width, height), interpolation=cv2.INTER_LANCZOS4)
        if mask is None:
            return full
        # Soft edge inside the mask only: outside it, the original pixels stay exactly as they were.
        alpha = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), max(1.0, width / 800)) * mask
        blended = image * (1 - alpha[..., None]) + full * alpha[..., None]
        return np.where(mask[..., None], np.clip(blended + 0.5, 0, 255).astype(np.uint8), image)

    def _cache_key(
        self, sent: np.ndarray, operation: str, params: dict, prompt: str, regions
    ) -> str:
        description = {
            "input": hashlib.sha256(sent.tobytes()).hexdigest(),
            "shape": sent.shape,
            "operation": operation,
            "params": params,
            "prompt": prompt,
            "mask": regions or [],
            "provider": self.provider.name,
            "model": self.provider.model,
        }
        return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()

    def _claim_or_wait(self, key: str, operation: str) -> bytes | None:
        """Claims the request (None: go ahead and pay), or waits for whoever holds the claim
        and returns their answer. A claim older than the provider's worst case is taken over."""
        deadline = time.monotonic() + claim_ttl()
        while True:
            claim, created = AIResult.objects.get_or_create(
                key=key,
                defaults={
                    "provider": self.provider.name,
                    "model": self.provider.model,
                    "operation": operation,
                    "claimed_at": timezone.now(),
                    "claimed_by": self.claimant,
                },
            )
            if created:
                return None
            if claim.storage_key:
                return self._cached(key)
            # Taken over when stale, or when it is this job's own claim from an attempt that died.
            stale = timezone.now() - timedelta(seconds=claim_ttl())
            takeover = Q(claimed_at__lt=stale)
            if self.claimant:
                takeover |= Q(claimed_by=self.claimant)
            if AIResult.objects.filter(takeover, pk=claim.pk, storage_key="").update(
                claimed_at=timezone.now(), claimed_by=self.claimant
            ):
                return None
            if time.monotonic() > deadline:
                return None
            time.sleep(0.25)

    def _cached(self, key: str) -> bytes | None:
        hit = AIResult.objects.filter(key=key).exclude(storage_key="").first()
        if hit is None or not storages["processed"].exists(hit.storage_key):
            return None
        AIResult.objects.filter(pk=hit.pk).update(hits=F("hits") + 1)
        self.usage.cache_hits += 1
        with storages["processed"].open(hit.storage_key, "rb") as stored:
            return stored.read()

    def _remember(self, key: str, operation: str, answer) -> None:
        storage_key = storages["processed"].save(
            f"{CACHE_PREFIX}/{key}.png", ContentFile(answer.image)
        )
        AIResult.objects.update_or_create(
            key=key,
            defaults={
                "provider": self.provider.name,
                "model": answer.model,
                "operation": operation,
                "storage_key": storage_key,
                "usage": answer.usage,
                "cost": answer.cost,
                "claimed_at": None,
            },
        )


def claim_ttl() -> float:
    """The longest a provider call can take, retries included."""
    return settings.OPENAI_TIMEOUT * (settings.OPENAI_MAX_RETRIES + 1)

"""Runs generative edits for a job: right size in, full size out, masked pixels only, and a
cache keyed by (account, input, operation, params, model) so the same request never pays twice.

The cache is per account (a job's quota subject: the agency for agency projects, else the user):
an account never receives an answer another account paid for, so a cache hit tells nothing about
anyone else's photos. Every provider request goes through ``processing.guard`` (switches, budget,
circuit breaker) and is counted; a job makes at most ``AI_MAX_CALLS_PER_JOB`` requests in all.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from datetime import timedelta

import cv2
import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db.models import F, Q
from django.utils import timezone
from PIL import Image

from processing import guard, spend
from processing.models import AIResult, Job
from processing.providers import (
    EditResult,
    ImageEditProvider,
    ProviderRefused,
    ProviderUnavailable,
    supported_size,
)

CACHE_PREFIX = "ai-cache"


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


class CallBudgetSpent(ProviderRefused):
    """The job made every provider request it may make: it fails instead of asking again."""


class AIRunner:
    def __init__(self, provider: ImageEditProvider, *, job: Job) -> None:
        self.provider = provider
        self.job = job
        self.claimant = str(job.id)  # its own earlier, interrupted attempt never blocks it

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
                answer = self._pay(
                    operation,
                    lambda: self.provider.edit(
                        image_png=png_bytes(sent),
                        mask_png=mask_png,
                        prompt=prompt,
                        size=f"{send_w}x{send_h}",
                    ),
                )
            except Exception:
                AIResult.objects.filter(key=key, storage_key="").delete()  # let others try
                raise
            # Recorded before anything else can go wrong: the provider has been paid.
            spend.provider_call_record(
                job=self.job,
                provider=self.provider,
                operation=operation,
                cache_key=key,
                answer=answer,
            )
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

    def _pay(self, operation: str, call) -> EditResult:
        """Asks the provider, retrying 429/5xx/timeouts with backoff up to
        1 + OPENAI_MAX_RETRIES requests, never past the job's AI_MAX_CALLS_PER_JOB; each request
        is taken from the job's budget in the database (shared by every run of the job) and
        allowed by the guard before it is made."""
        name = self.provider.name
        limit = settings.AI_MAX_CALLS_PER_JOB
        for attempt in range(1 + settings.OPENAI_MAX_RETRIES):
            if not spend.job_request_take(self.job.id, limit=limit):
                raise CallBudgetSpent(
                    "provider_unavailable",
                    f"{limit} provider requests made for this job, the most allowed.",
                )
            try:
                guard.check_may_pay(name, operation)
            except guard.ProviderWait:
                spend.job_usage_count(self.job.id, requests=-1)  # not made: the job waits
                raise
            try:
                answer = call()
            except ProviderRefused:
                guard.record_success(name, operation)  # it answered: it is up
                raise
            except ProviderUnavailable as error:
                if error.outage:
                    guard.record_failure(name, operation, error)
                if attempt == settings.OPENAI_MAX_RETRIES:
                    raise
                time.sleep(guard.backoff(attempt, error.retry_after))
                continue
            guard.record_success(name, operation)
            return answer
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _cache_key(
        self, sent: np.ndarray, operation: str, params: dict, prompt: str, regions
    ) -> str:
        description = {
            "account": self.job.quota_subject,
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
                    "subject": self.job.quota_subject,
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
        spend.job_usage_count(self.job.id, cache_hits=1)
        with storages["processed"].open(hit.storage_key, "rb") as stored:
            return stored.read()

    def _remember(self, key: str, operation: str, answer) -> None:
        storage_key = storages["processed"].save(
            f"{CACHE_PREFIX}/{key}.png", ContentFile(answer.image)
        )
        AIResult.objects.update_or_create(
            key=key,
            defaults={
                "subject": self.job.quota_subject,
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

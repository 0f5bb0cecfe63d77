"""The registry of operational switches and their current values.

A switch is declared here once (name, parser, default from Django settings, help) and read with
``value(name)``: the database row staff set in the admin, else the default. Values are cached
(``CACHE_SECONDS``) and the cache entry is dropped whenever ``runtime.services`` writes one, so
every process sees a change at once. To add a switch, add a ``SwitchSpec`` to ``REGISTRY``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.cache import cache

from runtime.models import Switch

CACHE_SECONDS = 300
_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE | _FALSE:
        return lowered in _TRUE
    raise ValueError(f"{text!r} is not true/false, yes/no, on/off or 1/0")


def parse_money(text: str) -> Decimal | None:
    """USD amount ≥ 0; blank means no limit."""
    if not text.strip():
        return None
    try:
        amount = Decimal(text.strip())
    except InvalidOperation as error:
        raise ValueError(f"{text!r} is not an amount") from error
    if amount < 0 or not amount.is_finite():
        raise ValueError("the amount must be 0 or more")
    return amount


def parse_hours(text: str) -> tuple[int, int]:
    """``start,end`` hours (0–23, server time); the window may wrap past midnight."""
    parts = [part.strip() for part in text.split(",")]
    try:
        start, end = (int(part) for part in parts)
    except ValueError as error:
        raise ValueError(f"{text!r} is not two hours like 1,6") from error
    if not (0 <= start <= 23 and 0 <= end <= 23):
        raise ValueError("hours are 0 to 23")
    return start, end


def parse_text(text: str) -> str:
    if len(text.strip()) > 300:
        raise ValueError("keep it under 300 characters")
    return text.strip()


@dataclass(frozen=True)
class SwitchSpec:
    name: str
    parse: Callable[[str], Any]
    default: Callable[[], Any]  # read from settings when asked, so tests can override them
    help: str


REGISTRY: dict[str, SwitchSpec] = {
    spec.name: spec
    for spec in (
        SwitchSpec(
            "ai_provider_enabled",
            parse_bool,
            lambda: settings.AI_PROVIDER_ENABLED,
            "Off: no AI provider call is made; AI jobs wait (their users are told) until it is on.",
        ),
        SwitchSpec(
            "ai_daily_budget_usd",
            parse_money,
            lambda: parse_money(settings.AI_DAILY_BUDGET_USD),
            "USD paid to the AI provider per day (server time) before new AI work waits for the "
            "next day; blank: no limit.",
        ),
        SwitchSpec(
            "offpeak_window",
            parse_hours,
            lambda: tuple(settings.OFFPEAK_WINDOW),
            "Hours (server time, start,end) when economy-lane jobs run, e.g. 1,6.",
        ),
        SwitchSpec(
            "maintenance_banner",
            parse_text,
            lambda: settings.MAINTENANCE_BANNER,
            "A notice shown at the top of every page (planned maintenance); blank: none.",
        ),
    )
}


def _cache_key(name: str) -> str:
    return f"runtime:switch:{name}"


def value(name: str) -> Any:
    """The switch's current value: what staff set, else its default."""
    spec = REGISTRY[name]
    stored = cache.get(_cache_key(name))
    if stored is None:
        row = Switch.objects.filter(name=name).values_list("value", flat=True).first()
        stored = ("set", row) if row is not None else ("default", "")
        cache.set(_cache_key(name), stored, CACHE_SECONDS)
    state, text = stored
    return spec.parse(text) if state == "set" else spec.default()


def forget(name: str) -> None:
    """Drops the cached value, after a write."""
    cache.delete(_cache_key(name))

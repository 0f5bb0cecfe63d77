"""Login backoff: after a few failed passwords, an IP address and an account must wait longer and
longer (doubling, capped) before the next try; a refused try is answered 429 with Retry-After and
its password is not checked. The account's cap is short, so guessing from many addresses cannot
lock the owner out for more than a moment, while one address hammering waits up to its longer cap.
Counters live in the default cache (Redis when REDIS_URL is set), shared by every process."""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 24 * 3600  # failures older than this (since the first one) are forgotten


@dataclass(frozen=True)
class Backoff:
    """Doubling waits after ``free`` failures, from ``base`` seconds up to ``cap``."""

    scope: str
    free: int
    base: float
    cap: float

    def _keys(self, subject: str) -> tuple[str, str]:
        prefix = f"login-backoff:{self.scope}:{hashlib.sha256(subject.encode()).hexdigest()[:32]}"
        return f"{prefix}:failures", f"{prefix}:until"

    def wait(self, subject: str) -> int:
        """Seconds before ``subject`` may try again (0: now)."""
        until = cache.get(self._keys(subject)[1])
        return max(0, math.ceil(until - time.time())) if until else 0

    def fail(self, subject: str) -> None:
        failures_key, until_key = self._keys(subject)
        cache.add(failures_key, 0, WINDOW_SECONDS)
        try:
            failures = cache.incr(failures_key)
        except ValueError:  # expired between add and incr
            cache.set(failures_key, failures := 1, WINDOW_SECONDS)
        if failures > self.free:
            delay = min(self.cap, self.base * 2 ** (failures - self.free - 1))
            cache.set(until_key, time.time() + delay, math.ceil(delay))

    def forget(self, subject: str) -> None:
        cache.delete_many(self._keys(subject))


def ip_backoff() -> Backoff:
    return Backoff("ip", *settings.LOGIN_BACKOFF_IP)


def account_backoff() -> Backoff:
    return Backoff("account", *settings.LOGIN_BACKOFF_ACCOUNT)


def login_wait(*, ip: str, email: str) -> int:
    """Seconds this address must still wait before trying this account (0: it may try now)."""
    return max(ip_backoff().wait(ip), account_backoff().wait(email.strip().lower()))


def login_failed(*, ip: str, email: str) -> None:
    ip_backoff().fail(ip)
    account_backoff().fail(email.strip().lower())


def login_succeeded(*, email: str) -> None:
    """The owner got in: their account's count starts over (the address's does not, so an
    attacker cannot reset it by signing in to an account of their own)."""
    account_backoff().forget(email.strip().lower())

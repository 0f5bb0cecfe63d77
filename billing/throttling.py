"""API rate limits from the plan (``Plan.api_rate``): each user gets the fastest rate among their
own plan and their agencies' plans, anonymous callers ``API_ANONYMOUS_RATE`` per address, staff
no limit. Counters are fixed windows in the default cache (Redis when REDIS_URL is set), so every
web process counts together. Every API answer says where the caller stands (X-RateLimit-*); a
refusal is a 429 with Retry-After."""

from __future__ import annotations

import copy
import math
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from allauth.account.internal.userkit import str_to_user_id
from allauth.headless.contrib.rest_framework.authentication import JWTTokenAuthentication
from allauth.headless.internal.sessionkit import session_store
from allauth.headless.tokens.strategies.jwt import internal as jwt_internal
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from redis.commands.core import Script
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.throttling import BaseThrottle

from accounts.backends import prefetched_user, user_snapshot_key, user_snapshot_store
from accounts.tokens import access_token_payload, access_token_session_key
from billing.models import Plan
from billing.services import DEFAULT_PLAN
from photolisting.stamps import STAMP_SECONDS, stamps_attach

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
PLAN_RATE_CACHE_SECONDS = 60  # a plan change reaches the throttle within a minute
_PACK = 1_000_000  # a packed rate: requests × _PACK + seconds (the script below knows it too)


@dataclass(frozen=True)
class Rate:
    requests: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """``30/min``, ``600/m``, ``5/s``, ``1000/hour``, ``10000/day``."""
        count, period = text.split("/")
        return cls(int(count), PERIODS[period.strip()[0].lower()])

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def packed(self) -> int:
        """One integer (Django's Redis cache stores ints raw), so the counting script can read a
        cached rate."""
        return self.requests * _PACK + self.seconds

    @classmethod
    def unpacked(cls, packed: int) -> Rate:
        return cls(packed // _PACK, packed % _PACK)


@dataclass(frozen=True)
class Window:
    """Where a caller stands in the current window, for the X-RateLimit-* headers."""

    limit: int
    used: int
    reset: int  # seconds until the window starts over

    @property
    def allowed(self) -> bool:
        return self.used <= self.limit

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - self.used)),
            "X-RateLimit-Reset": str(self.reset),
        }


# One round trip per API call: read the caller's cached plan rate (unless given), count the call in
# its window, start the window's expiry; read the ARGV[3] keys after the first two (the caller's
# session and user snapshot, whose lookups would otherwise be round trips of their own); and read
# the keys after those, each a stamp set to its new value (ARGV[5]…) for ARGV[4] seconds when
# missing. The count is nil when the plan rate is not cached.
_TAKE = """
local read = {}
local reads = tonumber(ARGV[3])
for index = 3, 2 + reads do read[#read + 1] = redis.call('GET', KEYS[index]) end
for index = 3 + reads, #KEYS do
  local stamp = redis.call('GET', KEYS[index])
  if not stamp then
    stamp = ARGV[2 + index - reads]
    redis.call('SET', KEYS[index], stamp, 'EX', tonumber(ARGV[4]))
  end
  read[#read + 1] = stamp
end
local packed = tonumber(ARGV[2])
if not packed then
  local cached = redis.call('GET', KEYS[1])
  if not cached then return {false, false, unpack(read)} end
  packed = tonumber(cached)
end
local seconds = packed % 1000000
local start = math.floor(tonumber(ARGV[1]) / seconds) * seconds
local key = KEYS[2] .. ':' .. seconds .. ':' .. string.format('%d', start)
local used = redis.call('INCR', key)
if used == 1 then redis.call('EXPIRE', key, seconds + 1) end
return {packed, used, unpack(read)}
"""
_TAKE_SCRIPT = Script(None, _TAKE.encode())  # its SHA1 computed once; run on each call's client


def _rate_key(user_pk) -> str:
    return f"api-rate:user:{user_pk}"


def api_rate_of(user) -> Rate:
    """The fastest of the user's own plan and their agencies' plans (Free without any)."""
    packed = cache.get(_rate_key(user.pk))
    if packed is not None:
        return Rate.unpacked(packed)
    rates = Plan.objects.filter(
        Q(subscriptions__user=user)
        | Q(subscriptions__agency__memberships__user=user)
        | Q(code=DEFAULT_PLAN)
    ).values_list("api_rate", flat=True)
    rate = max((Rate.parse(text) for text in rates), key=lambda rate: rate.per_second)
    cache.set(_rate_key(user.pk), rate.packed(), PLAN_RATE_CACHE_SECONDS)
    return rate


def window_take(
    ident: str, rate: Rate | None = None, *, user=None, now: float | None = None
) -> Window:
    """Counts one request against ``ident``'s current window at ``rate`` (else ``user``'s plan
    rate), atomically. It runs on every API call, so in Redis it is one script call: the cached
    plan rate is read where the count is taken."""
    now = time.time() if now is None else now
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        user_pk = user.pk if user is not None else None
        window, _ = _redis_take(backend, ident, rate, user_pk=user_pk, now=now)
        if window is None:  # the plan rate is not cached: read it (which caches it), then count
            window, _ = _redis_take(backend, ident, api_rate_of(user), user_pk=user_pk, now=now)
        return window
    rate = rate or api_rate_of(user)
    start = int(now // rate.seconds) * rate.seconds
    key = f"api-throttle:{ident}:{rate.seconds}:{start}"
    cache.add(key, 0, rate.seconds + 1)
    try:
        used = cache.incr(key)
    except ValueError:  # the window's key expired between add and incr
        cache.set(key, used := 1, rate.seconds + 1)
    return _window(rate, used, now)


def _window(rate: Rate, used: int, now: float) -> Window:
    start = int(now // rate.seconds) * rate.seconds
    return Window(rate.requests, used, max(1, math.ceil(start + rate.seconds - now)))


def _redis_take(
    backend: RedisCache,
    ident: str,
    rate: Rate | None,
    *,
    user_pk,
    now: float,
    also_read: tuple[str, ...] = (),
    stamps: tuple[str, ...] = (),
) -> tuple[Window | None, list]:
    """The window after counting (None when no rate was given and the plan rate is not
    cached), then the stored bytes of the cache keys ``also_read`` (None when missing) and the
    values of the ``stamps`` (each made, for ``STAMP_SECONDS``, when missing), in one round
    trip."""
    client = backend._cache.get_client(write=True)
    keys = [
        backend.make_key(_rate_key(user_pk)) if user_pk is not None else "",
        backend.make_key(f"api-throttle:{ident}"),
        *(backend.make_key(key) for key in (*also_read, *stamps)),
    ]
    made = [secrets.token_hex(8) for _ in stamps]
    args = [repr(now), rate.packed() if rate else "", len(also_read), STAMP_SECONDS, *made]
    packed, used, *read = _TAKE_SCRIPT(keys=keys, args=args, client=client)
    if packed is None:
        return None, read
    return _window(Rate.unpacked(int(packed)), int(used), now), read


_ACCEPTED_MAX = 2_000


class _AcceptedUsers:
    """Who allauth and Django accepted for a given session and user snapshot, by their stored
    bytes: the checks (session user, password hash, active flag) depend on nothing else, so the
    same bytes get the same answer without unpickling and checking them again. Any change to the
    session or the user row changes or drops those bytes. Each call gets its own copy of the
    user."""

    def __init__(self) -> None:
        self._users: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple):
        with self._lock:
            user = self._users.get(key)
            if user is not None:
                self._users.move_to_end(key)
        return None if user is None else copy.copy(user)

    def put(self, key: tuple, user) -> None:
        with self._lock:
            self._users[key] = copy.copy(user)
            while len(self._users) > _ACCEPTED_MAX:
                self._users.popitem(last=False)


_accepted = _AcceptedUsers()


class ThrottledJWTAuthentication(JWTTokenAuthentication):
    """allauth's app-token authentication — the token's session must still live, so logging
    out ends the token at once — in one Redis round trip instead of three: the token's user is
    known from its verified signature, so the session, a snapshot of the user row
    (``accounts.backends``: Django's checks still run on it) and the caller's count against
    their plan rate are read and taken together; the plan throttle (below) then uses that
    count. The token's signature check is remembered by the process until the token expires
    (``accounts.tokens.access_token_payload``), so is the decryption of its session id, and so
    is the verdict on a session and snapshot seen before (``_AcceptedUsers``).
    Without Redis, or with the throttle off, it is allauth's authentication unchanged."""

    def authenticate_credentials(self, key: str):
        backend = caches[settings.SESSION_CACHE_ALIAS]
        if not (settings.API_THROTTLE and isinstance(backend, RedisCache)):
            return self._allauth_credentials(key)
        payload = access_token_payload(key)
        session_key = access_token_session_key(payload) if payload else None
        if not session_key:
            raise AuthenticationFailed(gettext("Invalid token."))
        session = session_store(session_key)
        if not hasattr(session, "cache_key"):  # sessions not kept in the cache
            return self._allauth_credentials(key)
        user_pk = str_to_user_id(payload["sub"])
        window, (session_bytes, snapshot_bytes, *stamps) = _redis_take(
            backend, f"user:{user_pk}", None, user_pk=user_pk, now=time.time(),
            also_read=(session.cache_key, user_snapshot_key(user_pk)), stamps=self.stamps_wanted,
        )  # fmt: skip
        self.window = window
        pairs = zip(self.stamps_wanted, stamps, strict=True)
        self.stamps = {name: stamp.decode() for name, stamp in pairs}
        seen = (payload["sub"], session_bytes, snapshot_bytes)
        known = session_bytes is not None and snapshot_bytes is not None
        if known and (user := _accepted.get(seen)) is not None:
            return user, payload
        loads = backend._cache._serializer.loads
        if session_bytes is not None:
            session._session_cache = loads(session_bytes)
        snapshot = None if snapshot_bytes is None else loads(snapshot_bytes)
        session.get(SESSION_KEY)  # a missing or expired session clears its key
        user = None
        if session.session_key:
            prefetched = prefetched_user.set(snapshot)
            try:
                user = jwt_internal.validate_token_user(payload, session)
            finally:
                prefetched_user.reset(prefetched)
        if user is None:
            raise AuthenticationFailed(gettext("Invalid token."))
        if snapshot is None:
            user_snapshot_store(user)
        else:
            _accepted.put(seen, user)
        return user, payload

    def _allauth_credentials(self, key: str):
        try:
            return super().authenticate_credentials(key)
        except AuthenticationFailed:  # allauth's words are English only
            raise AuthenticationFailed(gettext("Invalid token.")) from None

    def authenticate(self, request):
        self.window, self.stamps = None, None
        context = request.parser_context or {}
        wanted = getattr(context.get("view"), "cache_stamps", None)
        self.stamps_wanted = tuple(wanted(request, **context.get("kwargs", {}))) if wanted else ()
        authenticated = super().authenticate(request)
        if authenticated is not None and self.window is not None:
            request._request.rate_limit_window = self.window
        if authenticated is not None and self.stamps is not None:
            stamps_attach(request, self.stamps)
        return authenticated


class PlanRateThrottle(BaseThrottle):
    """DRF throttle (DEFAULT_THROTTLE_CLASSES) at the caller's plan rate."""

    def allow_request(self, request, view) -> bool:
        if not settings.API_THROTTLE:
            return True
        user = request.user
        if user and user.is_authenticated:
            if user.is_staff:
                request._request.rate_limit_window = None
                return True
            # Counted already when the app token was checked (ThrottledJWTAuthentication).
            taken = getattr(request._request, "rate_limit_window", None)
            self.window = taken or window_take(f"user:{user.pk}", user=user)
        else:
            rate = Rate.parse(settings.API_ANONYMOUS_RATE)
            self.window = window_take(f"ip:{self.get_ident(request)}", rate)
        request._request.rate_limit_window = self.window
        return self.window.allowed

    def wait(self) -> float:
        return self.window.reset


class RateLimitHeadersMiddleware:
    """Adds the X-RateLimit-* headers the throttle left on the request to its answer."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        window = getattr(request, "rate_limit_window", None)
        if window is not None:
            for name, value in window.headers().items():
                response[name] = value
        return response

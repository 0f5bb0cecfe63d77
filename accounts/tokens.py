"""App tokens (allauth headless, JWT): an access token is valid only while its session lives
(stateful validation, settings), so logging out, changing the password or a staff "sign out
everywhere" ends it at once; and a refresh token used a second time — it was stolen, or the app
leaked it — ends the session, so every token of that chain stops working."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import OrderedDict

from allauth.headless.tokens.strategies.jwt import internal
from allauth.headless.tokens.strategies.jwt.strategy import JWTTokenStrategy
from django.conf import settings

logger = logging.getLogger(__name__)

_VERIFIED_MAX = 10_000
_verified: OrderedDict[str, dict] = OrderedDict()
_verified_lock = threading.Lock()


def access_token_payload(token: str) -> dict | None:
    """allauth's check of an app access token (signature, expiry, use), remembered in this
    process until the token expires: an app sends the same token with every call of its five
    minutes, and the RSA check and JSON parsing are a tenth of such a call's CPU. Whether the
    token still counts — its session lives — is not remembered: callers check it every time."""
    with _verified_lock:
        payload = _verified.get(token)
    if payload is not None and payload["exp"] > time.time():
        return dict(payload)
    payload = internal.decode_token(token, "access")
    if payload is None:
        return None
    with _verified_lock:
        _verified[token] = payload
        while len(_verified) > _VERIFIED_MAX:
            _verified.popitem(last=False)
    return dict(payload)


def access_token_session_key(payload: dict) -> str | None:
    """The session an access token belongs to: allauth's AES decryption of its ``sid``,
    remembered by the process (a pure function of the sid and SECRET_KEY, asked on every call)."""
    sid = payload.get("sid")
    return _session_key(sid, settings.SECRET_KEY) if isinstance(sid, str) else None


@functools.lru_cache(maxsize=_VERIFIED_MAX)
def _session_key(sid: str, secret_key: str) -> str | None:
    return internal.session_key_from_sid(sid)


class TokenStrategy(JWTTokenStrategy):
    def refresh_token(self, refresh_token: str) -> tuple[str, str] | None:
        tokens = super().refresh_token(refresh_token)
        if tokens is None:
            self._end_chain_if_reused(refresh_token)
        return tokens

    def _end_chain_if_reused(self, refresh_token: str) -> None:
        """A genuine, unexpired refresh token its session no longer lists was rotated already."""
        payload = internal.decode_token(refresh_token, "refresh")
        if payload is None:
            return
        session = internal.get_token_session(payload)
        if session is None or payload["jti"] in internal.get_refresh_token_state(session):
            return
        logger.warning("refresh token reused: ending its session (user %s)", payload["sub"])
        session.delete()

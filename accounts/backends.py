"""Authentication backends that can take the user row an app-token call already read.

Every app-token API call must know the user is still allowed in (active, password unchanged since
the session began). Reading the row is a database round trip on every call; the call already makes
one Redis round trip for its session and rate count (``billing.throttling``), which also reads a
snapshot of the user kept for ``USER_SNAPSHOT_SECONDS``. Django's own checks still run on it (the
backend's ``user_can_authenticate``, the session's password hash). A snapshot is dropped whenever
the row is saved or deleted, or changed by one of the services below that update it in place, so
a deactivation or a password change reaches the API at once; at worst (a read racing a write)
the snapshot is that many seconds old, and deactivating or changing a password also ends the
user's sessions, which no snapshot outlives.
"""

from __future__ import annotations

from contextvars import ContextVar

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save

USER_SNAPSHOT_SECONDS = 30

# The snapshot read with the call's session, for the backend below (None: read the row).
prefetched_user: ContextVar = ContextVar("prefetched_user", default=None)


def user_snapshot_key(user_pk) -> str:
    return f"auth-user:{user_pk}"


def user_snapshot_store(user) -> None:
    cache.set(user_snapshot_key(user.pk), user, USER_SNAPSHOT_SECONDS)


def user_snapshot_drop(user_pk) -> None:
    cache.delete(user_snapshot_key(user_pk))


class _PrefetchedUser:
    def get_user(self, user_id):
        user = prefetched_user.get()
        if user is not None and str(user.pk) == str(user_id):
            return user if self.user_can_authenticate(user) else None
        return super().get_user(user_id)


class ModelBackend(_PrefetchedUser, DjangoModelBackend):
    pass


class AuthenticationBackend(_PrefetchedUser, AllauthBackend):
    pass


def _drop_on_change(sender, instance, **kwargs) -> None:
    user_snapshot_drop(instance.pk)


def connect() -> None:
    user_model = get_user_model()
    post_save.connect(_drop_on_change, sender=user_model, dispatch_uid="user-snapshot-save")
    post_delete.connect(_drop_on_change, sender=user_model, dispatch_uid="user-snapshot-delete")

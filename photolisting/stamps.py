"""Stamps: random tokens in the cache that an API answer's validator is made of, so a poll is
answered from the caller's authentication round trip alone (``billing.throttling`` reads a
view's ``cache_stamps``, making any that is missing). A write that changes what such an answer
shows drops its stamps (``projects.stamps``, ``processing.stamps``), at once and again once the
write commits: a poll between the two may label what it read before the commit with a stamp
made after the first drop, and the second drop ends that stamp. A stamp lives at most
``STAMP_SECONDS``, which bounds how long a lost drop (a process killed between
its commit and the drop, the cache down) can keep an old answer."""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import models, transaction

logger = logging.getLogger(__name__)

STAMP_SECONDS = 60


def stamps_attach(request, stamps: dict[str, str]) -> None:
    request._request.cache_stamps = stamps


def cache_stamps_read(request) -> dict[str, str] | None:
    """The stamps a view asked for (its ``cache_stamps(request, **url_kwargs)``: cache keys)
    as read — made when missing — in the caller's authentication round trip; None when they
    were not (no Redis, the throttle off, another authentication)."""
    return getattr(request._request, "cache_stamps", None)


def stamps_drop(keys: list[str]) -> None:
    if not keys:
        return
    _delete(keys)
    transaction.on_commit(lambda: _delete(keys))


def _delete(keys: list[str]) -> None:
    """A cache that fails here must not undo the write: the stamps' lifetime bounds the rest."""
    try:
        cache.delete_many(keys)
    except Exception:
        logger.warning("could not drop %d stamps", len(keys), exc_info=True)


class StampedQuerySet(models.QuerySet):
    """A queryset whose bulk writes say which rows they changed — ``rows_changed`` gets each
    row's ``stamp_field`` — as ``post_save`` and ``post_delete`` do for one row. ``update()``
    changes exactly the rows it read first that still match, so none escapes the drop."""

    stamp_field = "pk"

    def rows_changed(self, values: list) -> None:
        raise NotImplementedError

    def update(self, **kwargs) -> int:
        rows = list(self.values_list("pk", self.stamp_field))
        if not rows:
            return 0
        updated = models.QuerySet.update(self.filter(pk__in=[pk for pk, _ in rows]), **kwargs)
        self.rows_changed([value for _, value in rows])
        return updated

    def bulk_update(self, objs, fields, batch_size=None) -> int:
        objs = list(objs)
        updated = super().bulk_update(objs, fields, batch_size=batch_size)
        self.rows_changed([getattr(obj, self.stamp_field) for obj in objs])
        return updated

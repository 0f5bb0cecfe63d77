"""Django's PostgreSQL backend with a health check that costs no round trip.

Django checks a persistent connection at the start of every request with ``SELECT 1``: one more
database round trip on every API call, the most frequent thing the server does. A connection the
server closed (a restart, ``pg_terminate_backend``, an idle timeout) has already told us so: libpq
marks it bad, or the server's goodbye is waiting unread on an otherwise idle socket. Looking at the
socket answers the same question without asking the server. After an error inside a request
Django still runs the real ``SELECT 1`` check (``is_usable``).
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        if self.connection is None or not self.health_check_enabled or self.health_check_done:
            return
        if self.pool is None and not self._idle_and_open():
            self.close()
        self.health_check_done = True

    def _idle_and_open(self) -> bool:
        connection = self.connection
        if connection.closed or connection.broken:
            return False
        try:
            readable, _, _ = select.select([connection.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        # Nothing is owed to an idle connection (no LISTEN here): anything to read is the
        # server's termination notice or the end of the stream.
        return not readable

"""What accounts tells the layers above it without importing them. Billing, which sits above,
decides whether a seat is free and keeps the paid seat quantity in step (``billing.receivers``)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside the team's locked transaction before a seat is taken (a member added, an
# invitation sent), with ``agency`` and ``seats_used``: a receiver refuses by raising an
# ApplicationError, which reaches the caller as it is.
seat_requested = Signal()

# Sent when the number of seats held changed (a member added or removed, an invitation accepted),
# with ``agency``.
seats_changed = Signal()

"""What projects tells the layers above it without importing them. Billing, which sits above,
decides whether the owner's plan has room for another project (``billing.entitlements``)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside the creating transaction, with the owner's row locked, before a project is made,
# with ``user`` and ``agency`` (None for a personal project): a receiver refuses by raising an
# ApplicationError, which reaches the caller as it is.
project_requested = Signal()

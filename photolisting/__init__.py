"""PhotoListing: listing photos uploaded, ingested, enhanced and delivered."""

from photolisting.celery import app as celery_app

__all__ = ("celery_app",)

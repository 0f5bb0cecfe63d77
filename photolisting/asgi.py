"""ASGI entry point for uvicorn and friends."""

import os

from django.core.asgi import get_asgi_application

# Production unless DJANGO_SETTINGS_MODULE says otherwise, like manage.py and the Celery app.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photolisting.settings.production")

application = get_asgi_application()

"""WSGI entry point for gunicorn and friends."""

import os

from django.core.wsgi import get_wsgi_application

# Production unless DJANGO_SETTINGS_MODULE says otherwise, like manage.py and the Celery app.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photolisting.settings.production")

application = get_wsgi_application()

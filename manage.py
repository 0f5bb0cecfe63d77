#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    # Every entry point (manage.py, wsgi, asgi, Celery) defaults to production: a process started
    # without DJANGO_SETTINGS_MODULE stops on a missing variable instead of serving debug settings.
    # `make run` and the tests select their settings explicitly.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photolisting.settings.production")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

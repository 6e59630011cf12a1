"""The reference's WSGI entry point: Django's handler alone, as a bare Django project has it."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.reference.settings")

application = get_wsgi_application()

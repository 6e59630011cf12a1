"""WSGI entry point (gunicorn config.wsgi).

Kept pages for visitors with no session are answered before Django's
handler (shop/pagecache_front.py); every other request goes to Django.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

django_application = get_wsgi_application()

from shop.pagecache_front import KeptPageFront  # noqa: E402  (needs the apps loaded above)

application = KeptPageFront(django_application)

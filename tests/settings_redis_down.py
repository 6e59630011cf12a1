"""Settings of the admin link check with RQ's Redis down (tests/test_admin_links.py).

The test settings, with RQ's queue on a closed port (nothing listens on port 9).
django-rq reads RQ_QUEUES once, when it is imported, so this has to be a
settings module; the test itself sends tasks to RQ (settings.TASKS).
"""

from config.settings_test import *  # noqa: F403

RQ_QUEUES = {name: {"URL": "redis://127.0.0.1:9/0", "DEFAULT_TIMEOUT": 300} for name in TASK_QUEUES}  # noqa: F405

"""The admin link check with RQ's Redis down: run by tests/test_admin_links.py in its own process.

Not collected by the suite (not test_*.py): it needs DJANGO_SETTINGS_MODULE=tests.settings_redis_down,
whose RQ queue is on a closed port.
"""

import os

import pytest
from django.urls import reverse

from tests.test_admin_links import check_admin_links
from tests.test_tasks_rq import RQ_TASKS


@pytest.mark.django_db
def test_admin_links_answer_with_redis_down(admin_client, admin_user, settings):
    assert os.environ.get("DJANGO_SETTINGS_MODULE") == "tests.settings_redis_down"
    settings.TASKS = RQ_TASKS
    check_admin_links(admin_client, admin_user)
    dashboard = admin_client.get(reverse("admin:django_rq_dashboard_changelist")).content.decode()
    assert "does not answer" in dashboard and "127.0.0.1:9/0" in dashboard
